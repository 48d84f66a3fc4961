cas_e2e_test(casd_skeleton casd_skeleton.sh)
# It uses casd's default ports (zero-configuration start): one test at a time holds them.
set_tests_properties(e2e.casd_skeleton PROPERTIES RESOURCE_LOCK default_ports)
cas_e2e_test(cli_frame cli_frame.sh)
cas_e2e_test(cli_identity cli_identity.sh)
