cas_e2e_test(service_story service_story.sh)
