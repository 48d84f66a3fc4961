cas_unit_test(sim_through_dcap SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sim_through_dcap.c
              LIBS cas_tee cas_dcap)
