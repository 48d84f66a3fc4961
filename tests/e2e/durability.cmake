# Durability: SIGKILL during a stream of creations (and, below, a full disk).
cas_e2e_test(durability durability.sh)
