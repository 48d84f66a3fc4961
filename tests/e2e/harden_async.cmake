# Key generation off the HTTP workers: health answers while RSA keys are made.
cas_e2e_test(harden_async harden_async.sh)
