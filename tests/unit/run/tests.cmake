foreach(t settings answer launch inject)
    cas_unit_test(run_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c
                  ${CMAKE_CURRENT_LIST_DIR}/run_test.c LIBS cas_run_core)
endforeach()
# The enclave API connection of cas-run (lib/client/enclave.c), against a TLS server on loopback.
cas_unit_test(run_enclave SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_enclave.c
              LIBS cas_client cas_crypto cas_util Threads::Threads)
