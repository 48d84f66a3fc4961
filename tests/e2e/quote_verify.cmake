cas_e2e_test(quote_verify quote_verify.sh)
