# lib/policy: the session language (tests named as sentences; the corpus in tests/policy/corpus).
foreach(t corpus hash template limits exports)
    cas_unit_test(policy_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c
                  ${CMAKE_CURRENT_LIST_DIR}/policy_testlib.c LIBS cas_policy)
endforeach()
