# src/cas-run: the enclave API's attest and render answers as cas-run parses them.
cas_fuzz_target(run_answer SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_run_answer.c LIBS cas_run_core)
