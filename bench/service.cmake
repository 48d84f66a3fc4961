add_executable(bench_service ${CMAKE_CURRENT_LIST_DIR}/bench_service.c)
target_link_libraries(bench_service PRIVATE cas_tee cas_crypto cas_util PkgConfig::CURL
                      PkgConfig::JANSSON OpenSSL::Crypto)
