# client: the /v1/attest answer cas attest parses (from the network, before anything is trusted).
cas_fuzz_target(attest_report SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_attest_report.c LIBS cas_client)
