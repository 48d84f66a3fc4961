cas_unit_test(http_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_server.c
              LIBS cas_http_harness cas_http)
