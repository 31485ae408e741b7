// The ABI version of what is pinned (GTHULHU_ABI_VERSION in bpf/gthulhu_shared.h,
// recorded in <pin root>/abi_version): a restart of the same version adopts its pins;
// pins of another version are never adopted silently. The shared policy maps are
// refused with a message that says what to do (and nothing is unlinked), the
// tracker's own caches are re-created, and a process that only opens the pins
// (PinnedPolicyMaps) refuses them too. Real BPF maps on the host; root needed.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "agent/bpf/pinned_policy_maps.h"
#include "agent/bpf/tracker_bpf.h"
#include "tests/integration/host_sandbox.h"

namespace gthulhu::agent {
namespace {

bool pinned(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The version recorded under the pin root; -1 when there is none, -2 when unreadable.
int64_t recorded_abi(const std::string& root) {
  int fd = bpf_obj_get((root + "/abi_version").c_str());
  if (fd < 0) return -1;
  uint32_t zero = 0, version = 0;
  int err = bpf_map_lookup_elem(fd, &zero, &version);
  ::close(fd);
  return err ? -2 : version;
}

// What an agent of another version would have left behind.
void record_abi(const std::string& root, uint32_t version) {
  int fd = bpf_obj_get((root + "/abi_version").c_str());
  ASSERT_GE(fd, 0) << "no abi_version pin under " << root;
  uint32_t zero = 0;
  EXPECT_EQ(bpf_map_update_elem(fd, &zero, &version, BPF_ANY), 0);
  ::close(fd);
}

class PinnedAbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = TrackerBpf::unsupported_reason(); !why.empty()) GTEST_SKIP() << why;
    if (auto why = test::ensure_bpffs(); !why.empty())
      GTEST_SKIP() << "no BPF filesystem for pins: " << why;
    pins_ = std::make_unique<test::PinDir>();
  }
  void TearDown() override { pins_.reset(); }

  TrackerOptions options() const {
    TrackerOptions o;
    o.pin_root = pins_->path();
    o.proc_table_entries = 4096;
    o.ring_buffer_bytes = 1u << 16;
    o.mount_bpffs = false;
    o.remove_pins_on_close = false;  // the pins outlive each tracker, as in a restart
    return o;
  }
  std::string pin(const char* name) const { return pins_->path() + "/" + name; }

  std::unique_ptr<test::PinDir> pins_;
};

TEST_F(PinnedAbiTest, SameVersionIsAdoptedWithItsPolicies) {
  gthulhu_policy policy{7, 3, 0, GTHULHU_POLICY_APPLY, gthulhu_weight_of(3)};
  {
    std::string error;
    auto first = TrackerBpf::open(options(), &error);
    ASSERT_NE(first, nullptr) << error;
    ASSERT_EQ(first->policy_maps().set_cgroup_policy(4242, policy), "");
  }
  EXPECT_EQ(recorded_abi(pins_->path()), GTHULHU_ABI_VERSION);
  std::string error;
  auto again = TrackerBpf::open(options(), &error);
  ASSERT_NE(again, nullptr) << error;
  auto kept = again->policy_maps().cgroup_policy(4242);
  ASSERT_TRUE(kept.has_value()) << "a restart of the same version keeps its policies";
  EXPECT_EQ(kept->policy_id, 7u);
  EXPECT_NE(PinnedPolicyMaps::open(pins_->path(), &error), nullptr) << error;
}

TEST_F(PinnedAbiTest, OlderVersionIsRefusedWithWhatToDoAndNothingUnlinked) {
  {
    std::string error;
    ASSERT_NE(TrackerBpf::open(options(), &error), nullptr) << error;
  }
  record_abi(pins_->path(), GTHULHU_ABI_VERSION - 1);

  std::string error;
  EXPECT_EQ(TrackerBpf::open(options(), &error), nullptr);
  EXPECT_NE(error.find("ABI version " + std::to_string(GTHULHU_ABI_VERSION - 1)),
            std::string::npos) << error;
  EXPECT_NE(error.find("rm -r " + pins_->path()), std::string::npos)
      << "the message says what to do: " << error;
  for (const char* name : {"policy_by_cgroup", "policy_by_tgid", "proc_table", "tracker_stats"})
    EXPECT_TRUE(pinned(pin(name))) << name << " was unlinked by a refused open";
  EXPECT_EQ(recorded_abi(pins_->path()), GTHULHU_ABI_VERSION - 1) << "left as it was";

  error.clear();
  EXPECT_EQ(PinnedPolicyMaps::open(pins_->path(), &error), nullptr);
  EXPECT_NE(error.find("ABI version"), std::string::npos) << error;

  // Doing what the message says: the next agent starts on fresh maps.
  test::PinDir* dir = pins_.get();
  for (const char* name : {"policy_by_cgroup", "policy_by_tgid", "proc_table", "tracker_stats",
                           "abi_version"})
    ASSERT_EQ(::unlink((dir->path() + "/" + name).c_str()), 0) << name;
  error.clear();
  EXPECT_NE(TrackerBpf::open(options(), &error), nullptr) << error;
  EXPECT_EQ(recorded_abi(pins_->path()), GTHULHU_ABI_VERSION);
}

TEST_F(PinnedAbiTest, PinsFromBeforeVersionsAreNotAdoptedEither) {
  {
    std::string error;
    ASSERT_NE(TrackerBpf::open(options(), &error), nullptr) << error;
  }
  ASSERT_EQ(::unlink(pin("abi_version").c_str()), 0);
  std::string error;
  EXPECT_EQ(TrackerBpf::open(options(), &error), nullptr);
  EXPECT_NE(error.find("no ABI version"), std::string::npos) << error;
  EXPECT_EQ(PinnedPolicyMaps::open(pins_->path(), &error), nullptr);
}

TEST_F(PinnedAbiTest, CachesOfAnOlderVersionAreRecreated) {
  {
    std::string error;
    ASSERT_NE(TrackerBpf::open(options(), &error), nullptr) << error;
  }
  record_abi(pins_->path(), GTHULHU_ABI_VERSION - 1);
  // Only the tracker's caches are left (no policies to lose): they are replaced.
  ASSERT_EQ(::unlink(pin("policy_by_cgroup").c_str()), 0);
  ASSERT_EQ(::unlink(pin("policy_by_tgid").c_str()), 0);
  int old_fd = bpf_obj_get(pin("proc_table").c_str());
  ASSERT_GE(old_fd, 0);
  bpf_map_info old_info{};
  uint32_t len = sizeof(old_info);
  ASSERT_EQ(bpf_map_get_info_by_fd(old_fd, &old_info, &len), 0);
  ::close(old_fd);

  std::string error;
  auto tracker = TrackerBpf::open(options(), &error);
  ASSERT_NE(tracker, nullptr) << error;
  EXPECT_EQ(recorded_abi(pins_->path()), GTHULHU_ABI_VERSION);
  int new_fd = bpf_obj_get(pin("proc_table").c_str());
  ASSERT_GE(new_fd, 0);
  bpf_map_info new_info{};
  len = sizeof(new_info);
  ASSERT_EQ(bpf_map_get_info_by_fd(new_fd, &new_info, &len), 0);
  ::close(new_fd);
  EXPECT_NE(new_info.id, old_info.id) << "the old proc_table was adopted, not re-created";
}

}  // namespace
}  // namespace gthulhu::agent
