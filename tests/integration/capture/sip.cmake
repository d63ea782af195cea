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
  # Captures live on lo: alone, so no other test's packets reach it.
  set_tests_properties(integration/capture_sip_live PROPERTIES
    LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 60 RUN_SERIAL TRUE
    RESOURCE_LOCK loopback_ports)
endif()
# The SIPp fixtures of the packet path, through referee-capture to records.
if(TARGET referee-capture)
  file(GLOB _sip_fixtures CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_LIST_DIR}/expected/sipp_*.csv)
  foreach(f ${_sip_fixtures})
    get_filename_component(n ${f} NAME_WE)
    string(REGEX REPLACE "^sipp_" "" n ${n})
    if(EXISTS ${PROJECT_SOURCE_DIR}/tests/fixtures/pcap/sipp_${n}.pcap)
      add_test(NAME integration/capture_records_${n}
        COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/sip_fixture.sh
                $<TARGET_FILE:referee-capture> ${PROJECT_SOURCE_DIR}
                ${CMAKE_CURRENT_BINARY_DIR}/records_${n} ${n})
      set_tests_properties(integration/capture_records_${n} PROPERTIES
        LABELS integration)
    endif()
  endforeach()
endif()
if(TARGET referee-capture AND EXISTS ${PROJECT_SOURCE_DIR}/tests/fixtures/pcap/sipp_term_sip.pcap)
  add_test(NAME integration/capture_sip_hep
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/sip_hep.sh $<TARGET_FILE:referee-capture>
            ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/sip_hep)
  set_tests_properties(integration/capture_sip_hep PROPERTIES
    LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 90
    RESOURCE_LOCK loopback_ports)
endif()
