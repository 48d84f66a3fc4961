cas_e2e_test(harden_http harden_http.sh)
