add_executable(bench_soak ${CMAKE_CURRENT_LIST_DIR}/bench_soak.c)
target_link_libraries(bench_soak PRIVATE cas_tee cas_crypto cas_util PkgConfig::JANSSON
                      OpenSSL::Crypto)
