#pragma once
// The shared structs (bpf/gthulhu_shared.h) as the compiled BPF objects' BTF lays them
// out, for the layout test that holds the C++ view against it. No libbpf here.
#include <cstdint>
#include <string>
#include <vector>

namespace gthulhu::agent {

struct BtfMember {
  std::string name;
  uint32_t offset = 0;  // bytes from the start of the struct
  uint32_t size = 0;    // bytes
};
struct BtfStruct {
  std::string object;  // "gthulhu" or "tracker": the BPF object it came from
  std::string name;    // "gthulhu_policy", ...
  uint32_t size = 0;
  std::vector<BtfMember> members;
};

// Every struct named `names` found in the BTF of the scheduler and tracker objects
// built into this binary (a struct both use appears once per object). Empty with
// *error set when an object's BTF cannot be read. Needs no privileges.
std::vector<BtfStruct> bpf_object_struct_layouts(const std::vector<std::string>& names,
                                                 std::string* error);

}  // namespace gthulhu::agent
