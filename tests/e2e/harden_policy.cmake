cas_e2e_test(harden_policy harden_policy.sh)
