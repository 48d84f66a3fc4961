cas_unit_test(store_sqlite SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store.c LIBS cas_store)
cas_unit_test(store_session_cache SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_session_cache.c LIBS cas_store)
