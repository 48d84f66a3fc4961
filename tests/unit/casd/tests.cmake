# src/casd: the pure parts of casd (quota.c: cost estimate, upload token buckets).
cas_unit_test(casd_quota SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_quota.c
              ${PROJECT_SOURCE_DIR}/src/casd/quota.c LIBS cas_policy cas_util Threads::Threads)
target_include_directories(unit_casd_quota PRIVATE ${PROJECT_SOURCE_DIR}/src/casd)
