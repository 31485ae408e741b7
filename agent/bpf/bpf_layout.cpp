#include "agent/bpf/bpf_layout.h"

#include <bpf/btf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/bpf/bpf_support.h"
#include "gthulhu.skel.h"
#include "tracker.skel.h"

namespace gthulhu::agent {

namespace {

using bpf_support::BpfResult;
using bpf_support::os_error;
using bpf_support::UniqueFd;

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};

// libbpf parses BTF from ELF files only: the skeleton's embedded object goes through
// a memory file.
BpfResult<std::unique_ptr<btf, BtfDeleter>> parse_elf_btf(const char* object, const void* elf,
                                                          size_t size) {
  UniqueFd mem(::memfd_create(object, MFD_CLOEXEC));
  if (!mem.valid()) return os_error("memfd_create", errno);
  for (size_t done = 0; done < size;) {
    ssize_t n = ::write(mem.get(), static_cast<const char*>(elf) + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("write the " + std::string(object) + " object to a memfd", errno);
    }
    done += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(mem.get());
  btf* b = btf__parse_elf(path.c_str(), nullptr);
  if (!b) return os_error("the BTF of the " + std::string(object) + " object", errno);
  return std::unique_ptr<btf, BtfDeleter>(b);
}

void collect(const char* object, const btf* b, const std::vector<std::string>& names,
             std::vector<BtfStruct>* out) {
  for (const auto& name : names) {
    int id = btf__find_by_name_kind(b, name.c_str(), BTF_KIND_STRUCT);
    if (id <= 0) continue;  // this object does not use it
    const btf_type* t = btf__type_by_id(b, id);
    BtfStruct s{object, name, t->size, {}};
    const btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t); ++i, ++m) {
      BtfMember member;
      member.name = btf__name_by_offset(b, m->name_off);
      member.offset = btf_member_bit_offset(t, static_cast<uint32_t>(i)) / 8;
      long size = btf__resolve_size(b, m->type);
      member.size = size > 0 ? static_cast<uint32_t>(size) : 0;
      s.members.push_back(std::move(member));
    }
    out->push_back(std::move(s));
  }
}

}  // namespace

std::vector<BtfStruct> bpf_object_struct_layouts(const std::vector<std::string>& names,
                                                 std::string* error) {
  std::vector<BtfStruct> out;
  struct Object {
    const char* name;
    const void* elf;
    size_t size;
  };
  size_t gsize = 0, tsize = 0;
  const void* gelf = gthulhu_bpf__elf_bytes(&gsize);
  const void* telf = tracker_bpf__elf_bytes(&tsize);
  for (const Object& o : {Object{"gthulhu", gelf, gsize}, Object{"tracker", telf, tsize}}) {
    auto b = parse_elf_btf(o.name, o.elf, o.size);
    if (!b) {
      if (error) *error = b.error().message;
      return {};
    }
    collect(o.name, b->get(), names, &out);
  }
  return out;
}

}  // namespace gthulhu::agent
