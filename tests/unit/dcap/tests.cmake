# dcap: quote and collateral parsers, TCB evaluation, verification of every real case in
# shared/testdata/dcap (walked at run time, so new cases join), synthetic-PKI negatives.
foreach(t cases)
    cas_unit_test(dcap_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dcap_${t}.c
                  ${CMAKE_CURRENT_LIST_DIR}/fixture.c LIBS cas_dcap)
endforeach()
