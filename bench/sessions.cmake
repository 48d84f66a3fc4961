add_executable(bench_sessions ${CMAKE_CURRENT_LIST_DIR}/bench_sessions.c)
target_link_libraries(bench_sessions PRIVATE cas_crypto cas_util PkgConfig::CURL OpenSSL::Crypto)
