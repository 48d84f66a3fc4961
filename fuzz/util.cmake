cas_fuzz_target(config SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c LIBS cas_util)
cas_fuzz_target(codec SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_codec.c LIBS cas_util)
# util: where casd finds the collateral in a service attestation body, before parsing the rest.
cas_fuzz_target(json_span SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_json_span.c LIBS cas_util
                PkgConfig::JANSSON)
