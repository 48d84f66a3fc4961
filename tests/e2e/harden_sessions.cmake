# Hardening of the session path: no key generation under the write lock, quotas, equal-cost
# answers for missing and unreadable sessions.
cas_e2e_test(harden_sessions harden_sessions.sh)
cas_e2e_test(harden_quotas harden_quotas.sh)
cas_e2e_test(harden_timing harden_timing.sh)
cas_e2e_test(harden_mix harden_mix.sh)
