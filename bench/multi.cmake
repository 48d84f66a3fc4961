add_executable(bench_multi ${CMAKE_CURRENT_LIST_DIR}/bench_multi.c)
target_link_libraries(bench_multi PRIVATE cas_crypto cas_util PkgConfig::CURL OpenSSL::Crypto)
