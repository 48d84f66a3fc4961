cas_unit_test(attest_decide SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_attest.c LIBS cas_attest)
