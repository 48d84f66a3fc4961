# lib/policy: parsing a 1 MiB session and a 10,000-secret session, against plain libyaml event
# parsing of the same bytes measured in the same run.
add_executable(bench_policy ${CMAKE_CURRENT_LIST_DIR}/bench_policy.c)
target_link_libraries(bench_policy PRIVATE cas_policy)
