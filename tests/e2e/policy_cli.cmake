# cas session check / calculate-hash over the policy corpus (no CAS needed).
cas_e2e_test(policy_cli policy_cli.sh)
