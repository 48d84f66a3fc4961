# names: session names, relative references and percent-decoding, as casd takes them from
# request paths and session files.
cas_fuzz_target(names SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_names.c LIBS cas_policy cas_util)
