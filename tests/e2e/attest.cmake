cas_e2e_test(seed_attest seed_attest.sh)
set_tests_properties(e2e.seed_attest PROPERTIES RESOURCE_LOCK default_ports)
