# Durability: SIGKILL during a stream of creations, and a full disk (a small tmpfs).
cas_e2e_test(durability durability.sh)
cas_e2e_test(disk_full disk_full.sh)
