foreach(t sim_quote sim_pki sim_collateral sim_measure provider hw)
    cas_unit_test(tee_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c
                  ${CMAKE_CURRENT_LIST_DIR}/tee_test.c LIBS cas_tee)
endforeach()
