cas_e2e_test(harden_policy harden_policy.sh)
cas_e2e_test(harden_exports harden_exports.sh)
