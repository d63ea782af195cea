# referee-capture's SIP half, end to end (see sip_e2e.sh).
if(TARGET referee-capture)
  add_test(NAME integration/capture_sip_e2e
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/sip_e2e.sh $<TARGET_FILE:referee-capture>
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/sip_e2e
            $<$<TARGET_EXISTS:referee-rate>:$<TARGET_FILE:referee-rate>>)
  set_tests_properties(integration/capture_sip_e2e PROPERTIES
    LABELS integration SKIP_RETURN_CODE 77)
endif()
if(TARGET referee-capture)
  add_test(NAME integration/capture_sip_live
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/sip_live.sh $<TARGET_FILE:referee-capture>
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/sip_live)
  set_tests_properties(integration/capture_sip_live PROPERTIES
    LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 60)
endif()
