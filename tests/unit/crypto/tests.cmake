cas_unit_test(crypto_seal SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_seal.c LIBS cas_crypto)
cas_unit_test(crypto_pki SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pki.c LIBS cas_crypto)
cas_unit_test(crypto_binding SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_binding.c LIBS cas_crypto)
