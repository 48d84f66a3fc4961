cas_e2e_test(postgres_store postgres_store.sh)
