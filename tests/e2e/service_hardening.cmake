cas_e2e_test(run_service_audit service_audit.sh)
cas_e2e_test(run_store_damaged store_damaged.sh)
cas_e2e_test(run_service_tokens service_tokens.sh)
cas_e2e_test(run_run_inject run_inject.sh)
