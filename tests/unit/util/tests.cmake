foreach(t err reader secret buf config codec json_span ratelimit)
    cas_unit_test(util_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c LIBS cas_util)
endforeach()
