# lib/policy: the session parser (whole pipeline: YAML, validation, normal form, read-back) and
# the template/placeholder scanner. Seeded from fuzz/corpus/<name>/ and the session corpus.
cas_fuzz_target(policy SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_policy.c LIBS cas_policy
                SEEDS ${PROJECT_SOURCE_DIR}/tests/policy/corpus)
cas_fuzz_target(policy_template SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_policy_template.c
                LIBS cas_policy)
# Coverage for libFuzzer: the library under test is instrumented too (the targets get
# -fsanitize=fuzzer from cas_fuzz_target).
if(CAS_FUZZ)
    target_compile_options(cas_policy PRIVATE -fsanitize=fuzzer-no-link)
endif()
