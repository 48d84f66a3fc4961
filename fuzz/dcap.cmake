# dcap: the quote parser and the collateral parsers, seeded with tests/data/dcap.
cas_fuzz_target(dcap_quote SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_dcap_quote.c
                LIBS cas_dcap SEEDS ${CAS_TESTDATA}/dcap)
cas_fuzz_target(dcap_collateral SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_dcap_collateral.c
                LIBS cas_dcap SEEDS ${CAS_TESTDATA}/dcap)
