# src/casd: the pure parts of casd (quota.c: cost estimate, upload token buckets).
cas_unit_test(casd_quota SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_quota.c
              ${PROJECT_SOURCE_DIR}/src/casd/quota.c LIBS cas_policy cas_util Threads::Threads)
target_include_directories(unit_casd_quota PRIVATE ${PROJECT_SOURCE_DIR}/src/casd)
# keygen.c: the bounded key generation pool (queue, refusals, cancel and join on free).
cas_unit_test(casd_keygen SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_keygen.c
              ${PROJECT_SOURCE_DIR}/src/casd/keygen.c LIBS cas_util Threads::Threads)
target_include_directories(unit_casd_keygen PRIVATE ${PROJECT_SOURCE_DIR}/src/casd)
