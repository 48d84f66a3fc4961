# bench_dcap: DCAP verifications per second, warm and cold (run by bench/dcap.sh).
add_executable(bench_dcap ${CMAKE_CURRENT_SOURCE_DIR}/bench_dcap.c)
target_link_libraries(bench_dcap PRIVATE cas_dcap)
