#include "coordinator/dispatch/static_agent_directory.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace gthulhu::coordinator {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<AgentEndpoint> sorted(std::vector<AgentEndpoint> agents) {
  std::sort(agents.begin(), agents.end(),
            [](const AgentEndpoint& a, const AgentEndpoint& b) { return a.node < b.node; });
  return agents;
}

}  // namespace

StaticAgentDirectory::StaticAgentDirectory(std::vector<AgentEndpoint> agents) : agents_(sorted(std::move(agents))) {}

std::vector<AgentEndpoint> StaticAgentDirectory::parse(const std::string& table) {
  std::vector<AgentEndpoint> out;
  std::set<std::string> nodes;
  size_t pos = 0;
  while (pos <= table.size()) {
    size_t comma = table.find(',', pos);
    if (comma == std::string::npos) comma = table.size();
    const std::string entry = trim(table.substr(pos, comma - pos));
    pos = comma + 1;
    if (entry.empty()) continue;
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("agents.static entry '" + entry + "' must be NODE=URL");
    }
    AgentEndpoint e;
    e.node = trim(entry.substr(0, eq));
    std::string url = trim(entry.substr(eq + 1));
    if (auto at = url.rfind('@'); at != std::string::npos) {
      e.connect_address = url.substr(at + 1);
      url = url.substr(0, at);
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      throw std::invalid_argument("agents.static entry '" + entry + "': the URL must start with https:// (or http://)");
    }
    if (!nodes.insert(e.node).second) {
      throw std::invalid_argument("agents.static names node '" + e.node + "' twice");
    }
    e.url = url;
    out.push_back(std::move(e));
  }
  return sorted(std::move(out));
}

std::vector<AgentEndpoint> StaticAgentDirectory::agents() const {
  std::lock_guard lock(mu_);
  return agents_;
}

void StaticAgentDirectory::set(std::vector<AgentEndpoint> agents) {
  {
    std::lock_guard lock(mu_);
    agents_ = sorted(std::move(agents));
  }
  notify_listeners();
}

}  // namespace gthulhu::coordinator
