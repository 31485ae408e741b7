#pragma once
// Internal to agent/bpf/*.cpp (includes libbpf): reads a whole BPF hash map.
#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/bpf/bpf_support.h"

namespace gthulhu::agent::bpf_support {

// Every (key, value) of a BPF_MAP_TYPE_HASH map, through batch lookup: bucket by
// bucket, so entries deleted or added meanwhile never restart or loop the walk (as
// they can with get_next_key). Falls back to get_next_key on kernels without batch
// support. Fails only on a real failure (*out then holds what was read).
template <typename K, typename V>
BpfStatus dump_hash_map(int fd, std::vector<std::pair<K, V>>* out) {
  uint32_t chunk = 1024;
  std::vector<K> keys;
  std::vector<V> values;
  uint64_t in_token = 0, out_token = 0;  // opaque position (a bucket index for hash maps)
  bool first = true;
  for (;;) {
    keys.resize(chunk);
    values.resize(chunk);
    uint32_t count = chunk;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_token, &out_token, keys.data(),
                                   values.data(), &count, nullptr);
    int saved = errno;
    for (uint32_t i = 0; i < count && i < chunk; ++i) out->emplace_back(keys[i], values[i]);
    if (err == 0) {
      in_token = out_token;
      first = false;
      continue;
    }
    if (saved == ENOENT) return {};  // walked every bucket
    if (saved == ENOSPC && count == 0 && chunk < (1u << 20)) {
      chunk *= 2;  // one bucket holds more entries than fit: retry it bigger
      continue;
    }
    if ((saved == EINVAL || saved == ENOTSUP || saved == 524 /* ENOTSUPP */) && first) break;
    return os_error("batch lookup", saved);
  }

  // Old kernels: key by key.
  out->clear();
  K key{}, next{};
  K* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    V value{};
    if (bpf_map_lookup_elem(fd, &next, &value) == 0) out->emplace_back(next, value);
    key = next;
    prev = &key;
  }
  return {};
}

}  // namespace gthulhu::agent::bpf_support
