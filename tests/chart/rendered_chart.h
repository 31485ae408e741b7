#pragma once
// The objects of a `helm template` rendering: each document's own text (sent to the API
// server as it is) and its identity (read with the coordinator's YAML reader, which
// keeps every scalar a string: enough for apiVersion, kind, name and namespace).
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gthulhu::test::chart {

struct RenderedObject {
  std::string api_version, kind, name, ns;  // ns "" for cluster-scoped objects
  std::string text;                         // the YAML document
  nlohmann::json tree;                      // scalars as strings
  std::string id() const { return kind + "/" + name; }
};

// Splits a multi-document stream on "---" lines; documents holding only comments are
// dropped. Throws std::runtime_error naming the document that does not parse.
std::vector<RenderedObject> split_rendering(const std::string& yaml);

const RenderedObject* find_object(const std::vector<RenderedObject>& objects,
                                  const std::string& kind, const std::string& name);

// "section.key" of every assignment in an INI text.
std::set<std::string> ini_keys(const std::string& ini);

// Names of the `GTHULHU_*` variables set on the containers of the workloads.
std::set<std::string> container_env_names(const std::vector<RenderedObject>& objects);

// The key column (`section.key`) and the environment-variable column of a
// `--help-config` Markdown table.
struct ConfigTable {
  std::set<std::string> keys, env;
};
ConfigTable parse_help_config(const std::string& markdown);

}  // namespace gthulhu::test::chart
