cas_unit_test(client_joinmsg SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_joinmsg.c LIBS cas_client)
