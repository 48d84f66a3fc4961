cas_unit_test(store_sqlite SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store.c LIBS cas_store)
