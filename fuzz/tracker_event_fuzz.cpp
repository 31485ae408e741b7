// The tracker's ring buffer record decoder: any bytes (a record the kernel side wrote
// wrongly, or a shorter one) decode without reading past the record, and the decoded
// strings stay within the record's fixed-size fields.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "agent/bpf/tracker_bpf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gthulhu_event raw{};
  std::memcpy(&raw, data, size < sizeof raw ? size : sizeof raw);
  const auto ev = gthulhu::agent::decode_tracker_event(raw);
  if (ev.comm.size() > sizeof raw.comm) std::abort();
  size_t argv_bytes = 0;
  for (const auto& a : ev.argv) argv_bytes += a.size() + 1;
  if (argv_bytes > sizeof raw.args + 1) std::abort();
  if (ev.cgroup_name.size() > sizeof raw.args) std::abort();
  return 0;
}
