# lib/secrets: the storage encoding of secret values (read back from the database: untrusted).
cas_fuzz_target(secrets_value SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_secrets_value.c
                LIBS cas_secrets)
