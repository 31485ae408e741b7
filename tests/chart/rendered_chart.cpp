#include "tests/chart/rendered_chart.h"

#include <sstream>
#include <stdexcept>

#include "coordinator/kube/yaml_document.h"

namespace gthulhu::test::chart {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string text_at(const nlohmann::json& j, const char* a, const char* b = nullptr) {
  const nlohmann::json* v = &j;
  for (const char* k : {a, b}) {
    if (k == nullptr) break;
    if (!v->is_object() || !v->contains(k)) return {};
    v = &(*v)[k];
  }
  return v->is_string() ? v->get<std::string>() : std::string();
}

void add_object(std::vector<RenderedObject>& out, const std::string& text, size_t index) {
  const nlohmann::json tree =
      coordinator::kube::parse_yaml(text, "rendered document " + std::to_string(index));
  if (tree.is_null()) return;
  RenderedObject o;
  o.api_version = text_at(tree, "apiVersion");
  o.kind = text_at(tree, "kind");
  o.name = text_at(tree, "metadata", "name");
  o.ns = text_at(tree, "metadata", "namespace");
  if (o.api_version.empty() || o.kind.empty() || o.name.empty()) {
    throw std::runtime_error("rendered document " + std::to_string(index) +
                             " lacks apiVersion, kind or metadata.name:\n" + text);
  }
  o.text = text;
  o.tree = tree;
  out.push_back(std::move(o));
}

}  // namespace

std::vector<RenderedObject> split_rendering(const std::string& yaml) {
  std::vector<RenderedObject> out;
  std::istringstream in(yaml);
  std::string line, current;
  size_t index = 0;
  while (std::getline(in, line)) {
    if (trim(line) == "---") {
      add_object(out, current, index++);
      current.clear();
    } else {
      current += line + "\n";
    }
  }
  add_object(out, current, index);
  return out;
}

const RenderedObject* find_object(const std::vector<RenderedObject>& objects,
                                  const std::string& kind, const std::string& name) {
  for (const auto& o : objects) {
    if (o.kind == kind && o.name == name) return &o;
  }
  return nullptr;
}

std::set<std::string> ini_keys(const std::string& ini) {
  std::set<std::string> keys;
  std::istringstream in(ini);
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
    } else if (auto eq = line.find('='); eq != std::string::npos) {
      keys.insert(section + "." + trim(line.substr(0, eq)));
    }
  }
  return keys;
}

std::set<std::string> container_env_names(const std::vector<RenderedObject>& objects) {
  std::set<std::string> names;
  for (const auto& o : objects) {
    const auto& spec = o.tree.value("spec", nlohmann::json::object());
    const auto& pod = spec.value("template", nlohmann::json::object()).value("spec", nlohmann::json::object());
    for (const auto& c : pod.value("containers", nlohmann::json::array())) {
      for (const auto& e : c.value("env", nlohmann::json::array())) {
        const std::string n = e.value("name", "");
        if (n.rfind("GTHULHU_", 0) == 0) names.insert(n);
      }
    }
  }
  return names;
}

ConfigTable parse_help_config(const std::string& markdown) {
  ConfigTable t;
  std::istringstream in(markdown);
  std::string line;
  while (std::getline(in, line)) {
    // | `section.key` | `GTHULHU_SECTION_KEY` | type | default | description |
    if (line.rfind("| `", 0) != 0) continue;
    const auto k1 = line.find('`'), k2 = line.find('`', k1 + 1);
    const auto e1 = line.find('`', k2 + 1), e2 = line.find('`', e1 + 1);
    if (k2 == std::string::npos || e2 == std::string::npos) continue;
    t.keys.insert(line.substr(k1 + 1, k2 - k1 - 1));
    t.env.insert(line.substr(e1 + 1, e2 - e1 - 1));
  }
  return t;
}

}  // namespace gthulhu::test::chart
