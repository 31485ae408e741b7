#include "coordinator/dispatch/dispatch_config.h"

#include <stdexcept>

namespace gthulhu::coordinator {

void add_dispatch_config(config::Schema& s) {
  s.add_string("agents", "static", "",
               "Agents of hosts without a cluster: NODE=URL[@ADDRESS], comma separated "
               "(URL's host = the name on the agent's certificate; ADDRESS = where to connect)");
  s.add_pem("agents", "ca", "CA that signed the agents' server certificates (PEM or path)");
  s.add_pem("agents", "client_cert",
            "The coordinator's client certificate for mTLS to the agents (PEM or path)");
  s.add_pem("agents", "client_key", "Its private key (PEM or path)");
  s.add_string("agents", "client_id", "gthulhu-coordinator",
               "client_id sent with agents.client_secret (when no client certificate is set)");
  s.add_string("agents", "client_secret", "",
               "The agents' auth.client_secret, used when no client certificate is configured "
               "(prefer GTHULHU_AGENTS_CLIENT_SECRET)");
  s.add_duration("agents", "connect_timeout", std::chrono::seconds(1), "TCP+TLS connect timeout per call");
  s.add_duration("agents", "request_timeout", std::chrono::seconds(5), "Whole-call timeout (push, read, probe)");
  s.add_duration("agents", "results_wait", std::chrono::seconds(20),
                 "How long one results long poll waits on the agent (at most 30s)");
  s.add_duration("agents", "retry_initial", std::chrono::milliseconds(200),
                 "First retry delay after a failed call (doubling, with jitter)...");
  s.add_duration("agents", "retry_max", std::chrono::seconds(10), "...up to this");
  s.add_duration("agents", "probe_interval", std::chrono::seconds(10),
                 "How often each agent's /health is read (status, generation resync)");
  s.add_duration("agents", "strategy_poll", std::chrono::seconds(2),
                 "How often the leader re-reads strategies from the store (changes made "
                 "through other replicas or the database)");
}

DispatchSettings dispatch_settings(const config::Config& cfg) {
  DispatchSettings d;
  AgentTransport& t = d.transport;
  t.ca_pem = cfg.get_pem("agents.ca");
  t.client_cert_pem = cfg.get_pem("agents.client_cert");
  t.client_key_pem = cfg.get_pem("agents.client_key");
  if (t.client_cert_pem.empty() != t.client_key_pem.empty()) {
    throw std::invalid_argument("agents.client_cert and agents.client_key must be set together");
  }
  t.client_id = cfg.get_string("agents.client_id");
  t.client_secret = cfg.get_string("agents.client_secret");
  t.connect_timeout = cfg.get_millis("agents.connect_timeout");
  t.request_timeout = cfg.get_millis("agents.request_timeout");
  t.results_wait = std::chrono::duration_cast<std::chrono::seconds>(cfg.get_duration("agents.results_wait"));
  if (t.results_wait.count() < 1 || t.results_wait.count() > 30) {
    throw std::invalid_argument("agents.results_wait must be between 1s and 30s");
  }
  d.timing.retry_initial = cfg.get_millis("agents.retry_initial");
  d.timing.retry_max = cfg.get_millis("agents.retry_max");
  d.timing.probe_interval = cfg.get_millis("agents.probe_interval");
  if (d.timing.retry_initial.count() <= 0 || d.timing.retry_max < d.timing.retry_initial) {
    throw std::invalid_argument("agents.retry_initial must be > 0 and <= agents.retry_max");
  }
  d.strategy_poll = cfg.get_millis("agents.strategy_poll");
  if (d.strategy_poll.count() <= 0) throw std::invalid_argument("agents.strategy_poll must be > 0");
  return d;
}

}  // namespace gthulhu::coordinator
