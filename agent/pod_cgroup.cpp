#include "agent/pod_cgroup.h"

#include <cctype>
#include <vector>

namespace gthulhu::agent {
namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Finds "pod<uuid>" in a segment, returning the canonical uid and the QoS named in the
// same segment (systemd: kubepods-burstable-pod<uid>.slice).
std::optional<std::string> pod_uid_in_segment(std::string_view seg) {
  size_t pos = 0;
  while ((pos = seg.find("pod", pos)) != std::string_view::npos) {
    // "pod" must start the segment or follow '-' (kubepods-...-pod<uid>); "kubepods"
    // itself contains "pods", not "pod" followed by a UUID, so the UID check decides.
    if (pos == 0 || seg[pos - 1] == '-') {
      std::string_view rest = seg.substr(pos + 3);
      if (rest.size() >= 36) {
        if (auto uid = canonical_pod_uid(rest.substr(0, 36))) {
          std::string_view tail = rest.substr(36);
          if (tail.empty() || tail == ".slice" || tail[0] == '.' || tail[0] == ':') return uid;
        }
      }
    }
    pos += 3;
  }
  return std::nullopt;
}

QosClass qos_from(std::string_view seg_before, std::string_view pod_seg) {
  auto has = [&](std::string_view word) {
    return pod_seg.find(word) != std::string_view::npos || seg_before == word ||
           seg_before.find(std::string("-") + std::string(word) + ".slice") != std::string_view::npos;
  };
  if (has("besteffort")) return QosClass::kBestEffort;
  if (has("burstable")) return QosClass::kBurstable;
  return QosClass::kGuaranteed;
}

struct ContainerMatch {
  std::string id;
  ContainerRuntime runtime = ContainerRuntime::kUnknown;
  bool helper = false;
};

// Container cgroup names by runtime; ids are 64 hex characters.
std::optional<ContainerMatch> container_in_segment(std::string_view seg) {
  struct Form {
    std::string_view prefix, suffix;
    ContainerRuntime runtime;
    bool helper;
  };
  static const Form kForms[] = {
      {"cri-containerd-", ".scope", ContainerRuntime::kContainerd, false},
      {"crio-conmon-", ".scope", ContainerRuntime::kCrio, true},
      {"crio-conmon-", "", ContainerRuntime::kCrio, true},
      {"crio-", ".scope", ContainerRuntime::kCrio, false},
      {"crio-", "", ContainerRuntime::kCrio, false},
      {"docker-", ".scope", ContainerRuntime::kDocker, false},
      {"", "", ContainerRuntime::kUnknown, false},  // cgroupfs: the bare id
  };
  // containerd with cgroupfs paths on a systemd host: "<pod slice>:cri-containerd:<id>"
  if (auto p = seg.find(":cri-containerd:"); p != std::string_view::npos) {
    std::string_view id = seg.substr(p + 16);
    if (id.size() == 64 && is_hex(id)) return ContainerMatch{std::string(id), ContainerRuntime::kContainerd, false};
  }
  for (const auto& f : kForms) {
    if (!starts_with(seg, f.prefix) || !ends_with(seg, f.suffix)) continue;
    std::string_view id = seg.substr(f.prefix.size(), seg.size() - f.prefix.size() - f.suffix.size());
    if (id.size() == 64 && is_hex(id)) return ContainerMatch{std::string(id), f.runtime, f.helper};
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(QosClass q) {
  switch (q) {
    case QosClass::kGuaranteed: return "Guaranteed";
    case QosClass::kBurstable: return "Burstable";
    case QosClass::kBestEffort: return "BestEffort";
  }
  return "?";
}

const char* to_string(CgroupDriver d) {
  return d == CgroupDriver::kSystemd ? "systemd" : "cgroupfs";
}

const char* to_string(ContainerRuntime r) {
  switch (r) {
    case ContainerRuntime::kContainerd: return "containerd";
    case ContainerRuntime::kCrio: return "cri-o";
    case ContainerRuntime::kDocker: return "docker";
    case ContainerRuntime::kUnknown: return "unknown";
  }
  return "?";
}

std::optional<PodCgroup> parse_pod_cgroup(std::string_view path) {
  const auto segs = split(path);
  // Pod cgroups live under a "kubepods" ancestor (kubepods, kubepods.slice,
  // kubelet-kubepods.slice, or the pod slice itself under containerd.service).
  bool under_kubepods = false;
  for (size_t i = 0; i < segs.size(); ++i) {
    const auto seg = segs[i];
    if (seg.find("kubepods") != std::string_view::npos) under_kubepods = true;
    if (!under_kubepods) continue;
    auto uid = pod_uid_in_segment(seg);
    if (!uid) continue;

    PodCgroup pod;
    pod.pod_uid = *uid;
    pod.driver = ends_with(seg, ".slice") || seg.find(".slice:") != std::string_view::npos
                     ? CgroupDriver::kSystemd
                     : CgroupDriver::kCgroupfs;
    pod.qos = qos_from(i > 0 ? segs[i - 1] : std::string_view(), seg);

    // The ":cri-containerd:<id>" form names pod and container in one segment.
    std::string_view pod_seg = seg;
    if (auto colon = seg.find(':'); colon != std::string_view::npos) pod_seg = seg.substr(0, colon);
    pod.pod_path.clear();
    for (size_t k = 0; k < i; ++k) {
      pod.pod_path += '/';
      pod.pod_path += segs[k];
    }
    pod.pod_path += '/';
    pod.pod_path += pod_seg;

    std::optional<ContainerMatch> container;
    if (pod_seg.size() != seg.size()) container = container_in_segment(seg);
    for (size_t k = i + 1; k < segs.size() && !container; ++k) container = container_in_segment(segs[k]);
    pod.is_pod_cgroup = (i + 1 == segs.size()) && pod_seg.size() == seg.size();
    if (container) {
      pod.container_id = container->id;
      pod.runtime = container->runtime;
      pod.is_runtime_helper = container->helper;
    }
    return pod;
  }
  return std::nullopt;
}

}  // namespace gthulhu::agent
