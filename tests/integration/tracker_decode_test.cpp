// Decoding of tracker records; pure user space, runs anywhere.
#include <gtest/gtest.h>

#include <cstring>

#include "agent/bpf/tracker_bpf.h"

namespace gthulhu::agent {
namespace {

gthulhu_event raw_event(uint32_t type, const char* args, size_t len) {
  gthulhu_event e{};
  e.type = type;
  e.tgid = 10;
  e.pid = 11;
  e.cgroup_id = 99;
  std::memcpy(e.comm, "nginx", 5);
  std::memcpy(e.args, args, len);
  e.args_len = static_cast<uint32_t>(len);
  return e;
}

TEST(TrackerDecode, ExecArgvSplitsOnNul) {
  const char args[] = "nginx\0-g\0daemon off;\0";
  auto e = decode_tracker_event(raw_event(GTHULHU_EVENT_EXEC, args, sizeof(args) - 1));
  EXPECT_EQ(e.type, TrackerEvent::Type::kExec);
  EXPECT_EQ(e.argv, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_FALSE(e.args_truncated);
  EXPECT_EQ(e.comm, "nginx");
  EXPECT_EQ(e.cgroup_id, 99u);
}

TEST(TrackerDecode, ExecWithoutFinalNulIsTruncated) {
  const char args[] = "python3\0-c\0print(";
  auto e = decode_tracker_event(raw_event(GTHULHU_EVENT_EXEC, args, sizeof(args) - 1));
  EXPECT_EQ(e.argv, (std::vector<std::string>{"python3", "-c", "print("}));
  EXPECT_TRUE(e.args_truncated);
}

TEST(TrackerDecode, EmptyArgsAndOversizedLengthAreSafe) {
  auto e = decode_tracker_event(raw_event(GTHULHU_EVENT_EXEC, "", 0));
  EXPECT_TRUE(e.argv.empty());
  gthulhu_event bad = raw_event(GTHULHU_EVENT_EXEC, "a", 1);
  bad.args_len = 100000;  // never trust a length from the wire
  std::memset(bad.args, 'z', sizeof(bad.args));
  auto d = decode_tracker_event(bad);
  ASSERT_EQ(d.argv.size(), 1u);
  EXPECT_EQ(d.argv[0].size(), sizeof(bad.args));
  EXPECT_TRUE(d.args_truncated);
  gthulhu_event comm_full = raw_event(GTHULHU_EVENT_EXIT, "", 0);
  std::memset(comm_full.comm, 'c', sizeof(comm_full.comm));  // no NUL at all
  EXPECT_EQ(decode_tracker_event(comm_full).comm, std::string(GTHULHU_COMM_LEN, 'c'));
}

TEST(TrackerDecode, CgroupPathOrLeafName) {
  const char path[] = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope";
  auto e = decode_tracker_event(raw_event(GTHULHU_EVENT_CGROUP_MKDIR, path, sizeof(path)));
  EXPECT_EQ(e.type, TrackerEvent::Type::kCgroupMkdir);
  EXPECT_EQ(e.cgroup_path, path);
  EXPECT_EQ(e.cgroup_name, "cri-containerd-ab.scope");

  const char name[] = "cri-containerd-ab.scope";  // the path did not fit
  auto r = decode_tracker_event(raw_event(GTHULHU_EVENT_CGROUP_RMDIR, name, sizeof(name)));
  EXPECT_EQ(r.type, TrackerEvent::Type::kCgroupRmdir);
  EXPECT_EQ(r.cgroup_path, "");
  EXPECT_EQ(r.cgroup_name, name);
}

TEST(TrackerDecode, UnknownTypeIsKeptRaw) {
  auto e = decode_tracker_event(raw_event(77, "", 0));
  EXPECT_EQ(e.type, TrackerEvent::Type::kUnknown);
  EXPECT_EQ(e.raw_type, 77u);
}

}  // namespace
}  // namespace gthulhu::agent
