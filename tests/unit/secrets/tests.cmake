# lib/secrets: secret values (tests named as sentences; sessions built in each test).
foreach(t make value render update)
    cas_unit_test(secrets_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c
                  ${CMAKE_CURRENT_LIST_DIR}/secrets_testlib.c LIBS cas_secrets)
endforeach()
