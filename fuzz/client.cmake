# client: the /v1/attest answer cas attest parses (from the network, before anything is trusted).
cas_fuzz_target(attest_report SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_attest_report.c LIBS cas_client)
# client: the attested join's request (casd, from a newcomer) and answer (the newcomer, from casd).
cas_fuzz_target(join_msg SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_join_msg.c LIBS cas_client)
