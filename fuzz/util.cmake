cas_fuzz_target(config SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c LIBS cas_util)
cas_fuzz_target(codec SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_codec.c LIBS cas_util)
