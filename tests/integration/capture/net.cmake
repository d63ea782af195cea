# Packet path integration tests: the SIPp fixtures (tests/fixtures/pcap) read
# through cap_pcap + cap_net, the delivered messages compared with golden
# listings (expected/*.txt: time, transport, addresses, length, first line,
# in order); the same through a HEP3 encode/decode round trip; the public
# odd captures of tests/fixtures/captures (see SOURCES.md there).
add_executable(capnet_dump ${CMAKE_CURRENT_SOURCE_DIR}/capnet_dump.c)
target_link_libraries(capnet_dump PRIVATE referee_capture)

set(_net_fixtures term_sip term_pstn orig_sip orig_pstn refused failed tcp
    compact term_pstn_any)
foreach(s ${_net_fixtures})
  foreach(mode pcap hep)
    add_test(NAME capture/net_sipp_${s}_${mode}
      COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net_check.sh $<TARGET_FILE:capnet_dump>
              ${mode} ${PROJECT_SOURCE_DIR}/tests/fixtures/pcap/sipp_${s}.pcap
              ${CMAKE_CURRENT_SOURCE_DIR}/expected/sipp_${s}.txt)
    set_tests_properties(capture/net_sipp_${s}_${mode} PROPERTIES LABELS integration)
  endforeach()
endforeach()

# pcapng: the orig_pstn recording converted with editcap -F pcapng
foreach(mode pcap hep)
  add_test(NAME capture/net_sipp_orig_pstn_pcapng_${mode}
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net_check.sh $<TARGET_FILE:capnet_dump>
            ${mode} ${PROJECT_SOURCE_DIR}/tests/fixtures/pcap/sipp_orig_pstn_ng.pcapng
            ${CMAKE_CURRENT_SOURCE_DIR}/expected/sipp_orig_pstn.txt)
  set_tests_properties(capture/net_sipp_orig_pstn_pcapng_${mode} PROPERTIES LABELS integration)
endforeach()

add_test(NAME capture/net_public_captures
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net_public.sh $<TARGET_FILE:capnet_dump>
          ${PROJECT_SOURCE_DIR}/tests/fixtures/captures)
set_tests_properties(capture/net_public_captures PROPERTIES LABELS integration)

# End to end on the SIPp flows: referee-capture -> records -> referee-rate,
# from the recorded fixtures (offline), from the same messages sent as HEP3
# over UDP (hep), and live on lo while SIPp plays them (live).
if(TARGET referee-capture AND TARGET referee-rate)
  foreach(mode offline hep live)
    add_test(NAME capture/sipp_e2e_net_${mode}
      COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/sipp_e2e_net.sh ${mode}
              $<TARGET_FILE:referee-capture> $<TARGET_FILE:referee-rate>
              ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/sipp_e2e_${mode}
              $<TARGET_FILE:capnet_dump>)
    set_tests_properties(capture/sipp_e2e_net_${mode} PROPERTIES
      LABELS integration SKIP_RETURN_CODE 77 RESOURCE_LOCK loopback_ports)
  endforeach()
  # both play SIPp on 127.0.0.x:5060
  set_tests_properties(capture/sipp_e2e_net_live PROPERTIES RUN_SERIAL TRUE
    TIMEOUT 300)
endif()

# One recorded flow (UDP and TCP) rewritten into every encapsulation:
# VLAN, QinQ, SLL, SLL2, raw, null, loop, IP-in-IP, IPv4 fragments, IPv6,
# IPv6 fragments, IPv6 in IPv4.
add_executable(net_variants ${CMAKE_CURRENT_SOURCE_DIR}/net_variants.c)
target_link_libraries(net_variants PRIVATE referee_flags PkgConfig::PCAP)
foreach(s term_sip tcp)
  add_test(NAME capture/net_variants_${s}
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net_variants.sh
            $<TARGET_FILE:net_variants> $<TARGET_FILE:capnet_dump>
            ${PROJECT_SOURCE_DIR}/tests/fixtures/pcap/sipp_${s}.pcap
            ${CMAKE_CURRENT_SOURCE_DIR}/expected/sipp_${s}.txt
            ${CMAKE_CURRENT_BINARY_DIR}/net_variants_${s})
  set_tests_properties(capture/net_variants_${s} PROPERTIES LABELS integration)
endforeach()
