cas_e2e_test(seed_sessions seed_sessions.sh)
set_tests_properties(e2e.seed_sessions PROPERTIES RESOURCE_LOCK default_ports)
cas_e2e_test(secret_kinds secret_kinds.sh)
