cas_fuzz_target(tee_quote_type SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/tee_quote_type.c LIBS cas_tee
                SEEDS ${CAS_TESTDATA}/dcap)
