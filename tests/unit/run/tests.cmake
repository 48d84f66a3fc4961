foreach(t settings answer launch inject)
    cas_unit_test(run_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c
                  ${CMAKE_CURRENT_LIST_DIR}/run_test.c LIBS cas_run_core)
endforeach()
