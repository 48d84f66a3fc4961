cas_unit_test(attest_decide SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_attest.c LIBS cas_attest)
cas_unit_test(attest_peer SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_peer.c LIBS cas_attest)
