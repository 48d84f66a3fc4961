# dcap: quote and collateral parsers, TCB evaluation, verification of every real case in
# tests/data/dcap (walked at run time, so new cases join), synthetic-PKI negatives, and
# the PCCS client against a loopback stand-in (pccs_server.py).
foreach(t cases quote collateral collateral_cache pki)
    cas_unit_test(dcap_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dcap_${t}.c
                  ${CMAKE_CURRENT_LIST_DIR}/fixture.c LIBS cas_dcap)
endforeach()
cas_unit_test(dcap_pccs SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dcap_pccs.c
              ${CMAKE_CURRENT_LIST_DIR}/fixture.c LIBS cas_client)
