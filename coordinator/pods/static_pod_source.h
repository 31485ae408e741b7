#pragma once
// A PodSource read once from a JSON file, for machines without a cluster and for tests:
//   {"pods": [{"uid": "...", "name": "...", "namespace": "...", "labels": {"k": "v"},
//              "nodeName": "...", "phase": "Running"}],
//    "nodes": ["node-a"]}            // optional; nodes of pods are added anyway
// A bare JSON array of pods is accepted too. uid, name and namespace are required.
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "coordinator/pods/pod_source.h"

namespace gthulhu::coordinator {

class StaticPodSource final : public PodSource {
 public:
  StaticPodSource() = default;  // empty inventory
  explicit StaticPodSource(std::vector<Pod> pods, std::vector<std::string> nodes = {});

  // Throws std::runtime_error naming the file and what is wrong.
  static std::unique_ptr<StaticPodSource> from_file(const std::filesystem::path& path);
  static std::unique_ptr<StaticPodSource> from_json(const std::string& text,
                                                    const std::string& origin);

  std::vector<Pod> pods() const override;
  std::vector<std::string> nodes() const override;
  bool synced() const override { return true; }

  // Replaces the inventory (tests; a future reload).
  void set(std::vector<Pod> pods, std::vector<std::string> nodes = {});

 private:
  mutable std::mutex mu_;
  std::vector<Pod> pods_;
  std::vector<std::string> nodes_;
};

}  // namespace gthulhu::coordinator
