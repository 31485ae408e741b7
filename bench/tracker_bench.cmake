# Tracker benchmark (bench/tracker_bench.cpp), for inclusion from bench/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/tracker_bench.cmake)
# Needs the BPF build; run as root: build/bench/tracker_bench [--quick]
if(TARGET gthulhu_agent_bpf)
  add_executable(tracker_bench
    ${CMAKE_CURRENT_LIST_DIR}/tracker_bench.cpp
    ${PROJECT_SOURCE_DIR}/tests/integration/host_sandbox.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/eventually.cpp)
  target_include_directories(tracker_bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(tracker_bench PRIVATE gthulhu_agent_bpf Threads::Threads)
endif()
