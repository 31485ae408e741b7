#include "common/http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/http/connection_guard.h"
#include "common/http/handler_call.h"
#include "common/http/json_api.h"
#include "common/tls/peer_verify.h"

namespace gthulhu::http {

ListenAddress parse_listen(const std::string& spec) {
  ListenAddress out;
  std::string port_text;
  if (!spec.empty() && spec[0] == '[') {
    auto close = spec.find(']');
    if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
      throw std::invalid_argument("listen address '" + spec + "': expected [ipv6]:port");
    }
    out.host = spec.substr(1, close - 1);
    out.ipv6 = true;
    port_text = spec.substr(close + 2);
  } else {
    auto colon = spec.rfind(':');
    if (colon == std::string::npos) {
      throw std::invalid_argument("listen address '" + spec + "': expected host:port or :port");
    }
    out.host = spec.substr(0, colon);
    port_text = spec.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port_text) > 65535) {
    throw std::invalid_argument("listen address '" + spec + "': port must be 0..65535");
  }
  out.port = static_cast<uint16_t>(std::stoul(port_text));
  if (out.host == "localhost") out.host = "127.0.0.1";
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

// Room in a connection's memory pool beyond the head limit: a head up to this much over
// it is answered in JSON (414/431) by begin(); past it libmicrohttpd answers on its own
// (its HTML 431, or a close). Also holds the parsed header list and the response head.
constexpr size_t kHeadPoolSlack = 16 << 10;

// One per HTTP request (MHD's req_cls), from the first callback to completion.
struct RequestState {
  Clock::time_point start = Clock::now();
  bool begun = false;      // the access handler has seen this request
  size_t uri_bytes = 0;    // the raw request target, as sent
  std::string method;
  std::string path;
  std::string route = "unmatched";
  std::string request_id;
  std::string peer_address;
  std::string body;
  size_t discarded = 0;
  bool too_large = false;
  bool responded = false;
  int status = 0;
  size_t response_bytes = 0;
};

// One per TCP connection (MHD's socket_context): the mTLS verdict is computed once
// per TLS session, not per request.
struct ConnectionState {
  bool verified = false;
  tls::PeerVerification verification;
  ConnectionGuard::Connection* guard = nullptr;
  std::string peer_address;  // formatted once per connection, not per request
};

ConnectionState* connection_state(MHD_Connection* conn) {
  const MHD_ConnectionInfo* ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? static_cast<ConnectionState*>(ci->socket_context) : nullptr;
}

bool valid_request_id(const char* v) {
  if (v == nullptr) return false;
  size_t n = std::strlen(v);
  if (n == 0 || n > 64) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = v[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == ':')) {
      return false;
    }
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id(16, '0');  // 16 lower-case hex digits, as "%016llx" (snprintf cost more)
  for (int i = 15; i >= 0; --i, v >>= 4) id[static_cast<size_t>(i)] = kHex[v & 0xF];
  return id;
}

std::string peer_address_of(MHD_Connection* conn) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "?";
  char buf[INET6_ADDRSTRLEN] = "?";
  const sockaddr* sa = info->client_addr;
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

MHD_Result collect_into(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* map = static_cast<std::map<std::string, std::string>*>(cls);
  std::string k = key ? key : "";
  (*map)[k] = value ? value : "";
  return MHD_YES;
}

MHD_Result collect_lowercase(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* map = static_cast<std::map<std::string, std::string>*>(cls);
  std::string k = key ? key : "";
  // ASCII only (header names are tokens); std::tolower is a locale-aware call per byte.
  for (auto& c : k) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  (*map)[std::move(k)] = value ? value : "";
  return MHD_YES;
}

}  // namespace

struct Server::Impl {
  const ServerOptions& options;
  const Router& router;
  std::atomic<int> in_flight{0};
  std::unique_ptr<ConnectionGuard> guard;
  std::vector<MHD_OptionItem> mhd_options;
  sockaddr_storage bind_addr{};

  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Histogram>* durations = nullptr;
  prometheus::Gauge* in_flight_gauge = nullptr;
  // The children of those families, found once: prometheus-cpp's Family::Add builds a
  // new metric (for a histogram its buckets), copies the label map and locks the family
  // on every call, even when the child exists. Children live as long as their family
  // (nothing here removes one), so the pointers stay valid. Keys: "method\nroute\nstatus"
  // and the route pattern; as many entries as the families have children.
  std::mutex children_mu;
  std::unordered_map<std::string, prometheus::Counter*> request_counters;
  std::unordered_map<std::string, prometheus::Histogram*> duration_histograms;

  Impl(const ServerOptions& o, const Router& r) : options(o), router(r) {
    ConnectionGuardOptions g;
    g.name = options.name;
    g.head_timeout = options.request_head_timeout;
    g.body_timeout = options.request_body_timeout;
    g.max_connections = options.max_connections;
    g.max_connections_per_ip = options.max_connections_per_ip;
    guard = std::make_unique<ConnectionGuard>(g);
    if (options.metrics) {
      requests = &prometheus::BuildCounter()
                      .Name("gthulhu_http_requests_total")
                      .Help("HTTP requests served, by server, method, route pattern and status")
                      .Register(*options.metrics);
      durations = &prometheus::BuildHistogram()
                       .Name("gthulhu_http_request_duration_seconds")
                       .Help("Time from request start to response, by server and route pattern")
                       .Register(*options.metrics);
      in_flight_gauge = &prometheus::BuildGauge()
                             .Name("gthulhu_http_requests_in_flight")
                             .Help("Requests begun and not yet answered, by server (long polls included)")
                             .Register(*options.metrics)
                             .Add({{"server", options.name}});
    }
  }
  void request_begun() {
    in_flight.fetch_add(1);
    if (in_flight_gauge) in_flight_gauge->Increment();
  }
  void request_ended() {
    in_flight.fetch_sub(1);
    if (in_flight_gauge) in_flight_gauge->Decrement();
  }

  MHD_Result queue(MHD_Connection* conn, RequestState* st, Response resp, bool close = false) {
    // The response takes the body string itself (freed with the response), not a copy.
    const size_t body_bytes = resp.body.size();
    auto* body = new std::string(std::move(resp.body));
    MHD_Response* r = MHD_create_response_from_buffer_with_free_callback_cls(
        body->size(), body->data(), [](void* owned) { delete static_cast<std::string*>(owned); },
        body);
    if (r == nullptr) {
      delete body;
      return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", resp.content_type.c_str());
    MHD_add_response_header(r, "X-Request-ID", st->request_id.c_str());
    for (const auto& [k, v] : resp.headers) MHD_add_response_header(r, k.c_str(), v.c_str());
    if (close) MHD_add_response_header(r, "Connection", "close");
    MHD_Result rc = MHD_queue_response(conn, static_cast<unsigned>(resp.status), r);
    MHD_destroy_response(r);
    st->responded = true;
    st->status = resp.status;
    st->response_bytes = body_bytes;
    return rc;
  }

  // First callback of a request: headers are known, the body is not.
  MHD_Result begin(MHD_Connection* conn, RequestState* st) {
    ConnectionState* conn_state = connection_state(conn);
    if (conn_state != nullptr) guard->head_received(conn_state->guard);
    if (conn_state != nullptr && guard->over_limit(conn_state->guard)) {
      auto busy = json_error(503, "too many connections from this address or in total; "
                                  "retry later on an existing connection");
      busy.with_header("Retry-After", "1");
      return queue(conn, st, busy, true);
    }
    if (st->uri_bytes > options.max_url_bytes) {
      return queue(conn, st,
                   json_error(414, "request URL exceeds the limit of " +
                                       std::to_string(options.max_url_bytes) + " bytes"),
                   true);
    }
    const MHD_ConnectionInfo* hs =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (hs != nullptr && hs->header_size > options.max_header_bytes) {
      return queue(conn, st,
                   json_error(431, "request headers exceed the limit of " +
                                       std::to_string(options.max_header_bytes) + " bytes"),
                   true);
    }
    if (options.tls && !options.tls->client_ca_pem.empty()) {
      auto* cs = conn_state;
      if (cs != nullptr && !cs->verified) {
        const MHD_ConnectionInfo* si =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        cs->verification = tls::verify_client_certificate(si ? si->tls_session : nullptr);
        cs->verified = true;
        if (!cs->verification.ok) {
          spdlog::warn("{}: refusing TLS client {}: {}", options.name, st->peer_address,
                       cs->verification.error);
        }
      }
      if (cs == nullptr || !cs->verification.ok) {
        return queue(conn, st,
                     json_error(403, cs ? cs->verification.error : "client certificate required"),
                     true);
      }
    }
    const char* cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl != nullptr) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(cl, &end, 10);
      if (end == cl || *end != '\0' || n > options.max_body_bytes) {
        return queue(conn, st,
                     json_error(413, "request body exceeds the limit of " +
                                         std::to_string(options.max_body_bytes) + " bytes"),
                     true);
      }
      st->body.reserve(static_cast<size_t>(n));
    }
    return MHD_YES;
  }

  Response dispatch(MHD_Connection* conn, RequestState* st) {
    auto match = router.match(st->method, st->path);
    if (match.outcome == Router::Outcome::kNotFound) {
      return json_error(404, "no route for " + st->method + " " + st->path);
    }
    if (match.outcome == Router::Outcome::kMethodNotAllowed) {
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      auto r = json_error(405, "method " + st->method + " is not allowed on " + st->path +
                                   " (allowed: " + allow + ")");
      r.with_header("Allow", allow);
      return r;
    }
    st->route = match.pattern;
    Request req;
    req.method = st->method;
    req.path = st->path;
    req.route = match.pattern;
    req.path_params = std::move(match.params);
    req.body = std::move(st->body);
    req.peer_address = st->peer_address;
    req.request_id = st->request_id;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_lowercase, &req.headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_into, &req.query);
    if (options.tls && !options.tls->client_ca_pem.empty()) {
      auto* cs = connection_state(conn);
      if (cs && cs->verification.ok) req.peer = cs->verification.identity;
    }
    return call_handler(*match.handler, req, options.name).response;
  }

  prometheus::Counter& counter_of(const RequestState& st) {
    const std::string status = std::to_string(st.status);
    thread_local std::string key;  // reused: no allocation per request once grown
    key.assign(st.method).append(1, '\n').append(st.route).append(1, '\n').append(status);
    {
      std::lock_guard lock(children_mu);
      auto it = request_counters.find(key);
      if (it != request_counters.end()) return *it->second;
    }
    auto& child = requests->Add({{"server", options.name}, {"method", st.method},
                                 {"route", st.route}, {"status", status}});
    std::lock_guard lock(children_mu);
    request_counters.emplace(key, &child);
    return child;
  }

  prometheus::Histogram& histogram_of(const RequestState& st) {
    {
      std::lock_guard lock(children_mu);
      auto it = duration_histograms.find(st.route);
      if (it != duration_histograms.end()) return *it->second;
    }
    static const prometheus::Histogram::BucketBoundaries kBuckets{
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    auto& child = durations->Add({{"server", options.name}, {"route", st.route}}, kBuckets);
    std::lock_guard lock(children_mu);
    duration_histograms.emplace(st.route, &child);
    return child;
  }

  void finish(RequestState* st, MHD_RequestTerminationCode toe) {
    const double seconds = std::chrono::duration<double>(Clock::now() - st->start).count();
    if (requests != nullptr && st->status != 0) {
      counter_of(*st).Increment();
      histogram_of(*st).Observe(seconds);
    }
    if (options.access_log) {
      const char* how = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)";
      spdlog::info("{} {} {} {} {}B {:.3f}ms peer={} rid={}{}", options.name, st->method,
                   st->path, st->status, st->response_bytes, seconds * 1e3, st->peer_address,
                   st->request_id, how);
    }
  }
};

namespace {

MHD_Result on_access(void* cls, MHD_Connection* conn, const char* url, const char* method,
                     const char*, const char* upload_data, size_t* upload_size, void** req_cls) {
  auto* impl = static_cast<Server::Impl*>(cls);
  auto* st = static_cast<RequestState*>(*req_cls);
  if (st == nullptr) {  // only when the URI callback did not run
    st = new RequestState;
    *req_cls = st;
  }
  if (!st->begun) {
    st->begun = true;
    impl->request_begun();
    st->method = method ? method : "";
    st->path = url ? url : "";
    const char* rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-ID");
    st->request_id = valid_request_id(rid) ? rid : new_request_id();
    const ConnectionState* cs = connection_state(conn);
    st->peer_address = cs != nullptr ? cs->peer_address : peer_address_of(conn);
    return impl->begin(conn, st);
  }
  if (st->responded) {
    *upload_size = 0;  // an early answer was queued: drop whatever body still arrives
    return MHD_YES;
  }
  if (*upload_size != 0) {
    // Chunked bodies have no Content-Length, so the limit is enforced while reading.
    const size_t limit = impl->options.max_body_bytes;
    if (!st->too_large && st->body.size() + *upload_size <= limit) {
      st->body.append(upload_data, *upload_size);
    } else {
      st->too_large = true;
      st->discarded += *upload_size;
      st->body.clear();
      st->body.shrink_to_fit();
      // Bound the work an oversized stream can cause: past this, drop the connection.
      if (st->discarded > 8 * limit) return MHD_NO;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (st->too_large) {
    return impl->queue(conn, st,
                       json_error(413, "request body exceeds the limit of " +
                                           std::to_string(impl->options.max_body_bytes) +
                                           " bytes"),
                       true);
  }
  if (auto* cs = connection_state(conn)) impl->guard->body_received(cs->guard);
  return impl->queue(conn, st, impl->dispatch(conn, st));
}

// Runs once the request line is in, before the headers: the raw target's length is
// known only here (the access handler sees it decoded and split). Its result becomes
// the request's req_cls.
void* on_uri(void*, const char* uri, MHD_Connection*) {
  auto* st = new RequestState;
  st->uri_bytes = uri ? std::strlen(uri) : 0;
  return st;
}

void on_completed(void* cls, MHD_Connection* conn, void** req_cls,
                  MHD_RequestTerminationCode toe) {
  auto* impl = static_cast<Server::Impl*>(cls);
  if (auto* cs = connection_state(conn)) impl->guard->request_done(cs->guard);
  auto* st = static_cast<RequestState*>(*req_cls);
  if (st == nullptr) return;
  const bool begun = st->begun;
  if (begun) impl->finish(st, toe);
  delete st;
  *req_cls = nullptr;
  if (begun) impl->request_ended();
}

void on_connection(void* cls, MHD_Connection* conn, void** socket_context,
                   MHD_ConnectionNotificationCode code) {
  auto* impl = static_cast<Server::Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* cs = new ConnectionState;
    cs->peer_address = peer_address_of(conn);
    const MHD_ConnectionInfo* fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fd != nullptr) cs->guard = impl->guard->open(fd->connect_fd, cs->peer_address);
    *socket_context = cs;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    auto* cs = static_cast<ConnectionState*>(*socket_context);
    if (cs != nullptr) impl->guard->close(cs->guard);
    delete cs;
    *socket_context = nullptr;
  }
}

void on_mhd_log(void* cls, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string msg(buf);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  spdlog::debug("{}: libmicrohttpd: {}", *static_cast<const std::string*>(cls), msg);
}

}  // namespace

Server::Server(ServerOptions options, Router router)
    : options_(std::move(options)), router_(std::move(router)) {}

Server::~Server() { stop(); }

void Server::start() {
  if (daemon_ != nullptr) return;
  const ListenAddress addr = parse_listen(options_.listen);
  impl_ = std::make_unique<Impl>(options_, router_);

  // poll(), not epoll: libmicrohttpd 0.9.75 with epoll and a thread pool can abort the
  // process on stop after quiesce ("Failed to remove listen FD from epoll set", seen in
  // CI); with poll() quiescing only stops watching the listen socket.
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG;
  auto& bind = impl_->bind_addr;
  if (addr.ipv6) {
    flags |= MHD_USE_IPv6;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&bind);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(addr.port);
    if (inet_pton(AF_INET6, addr.host.c_str(), &sin6->sin6_addr) != 1) {
      throw std::invalid_argument("listen address '" + options_.listen + "': bad IPv6 address");
    }
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&bind);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(addr.port);
    if (addr.host.empty() || addr.host == "0.0.0.0") {
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, addr.host.c_str(), &sin->sin_addr) != 1) {
      throw std::invalid_argument("listen address '" + options_.listen +
                                  "': host must be an IPv4 address, [IPv6] or localhost");
    }
  }

  auto& o = impl_->mhd_options;
  o.clear();
  auto add = [&o](MHD_OPTION opt, intptr_t value, void* ptr) { o.push_back({opt, value, ptr}); };
  add(MHD_OPTION_SOCK_ADDR, 0, &bind);
  add(MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(options_.connection_timeout.count()),
      nullptr);
  // libmicrohttpd's own limits sit above ours, so a connection or request that breaks
  // ours still reaches the code that answers it in JSON (ConnectionGuard, begin()).
  add(MHD_OPTION_CONNECTION_LIMIT, options_.max_connections + options_.max_connections / 4 + 8,
      nullptr);
  add(MHD_OPTION_PER_IP_CONNECTION_LIMIT, 2 * options_.max_connections_per_ip, nullptr);
  // The pool holds a request's head, so it is sized for a head somewhat over our limit
  // (the URL is part of the head): such a request is still answered 414/431 in JSON.
  // No larger: libmicrohttpd zeroes a connection's whole pool after every request, and
  // half of it again when it resizes the read buffer. The earlier 2 x (header + URL
  // limits) + 32 KiB (176 KiB by default) zeroed 264 KiB per keep-alive request, 77%
  // of the instructions of a cached GET (scripts/profile-coordinator.sh).
  add(MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      static_cast<intptr_t>(std::max(options_.max_header_bytes, options_.max_url_bytes) +
                            kHeadPoolSlack),
      nullptr);
  add(MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), impl_.get());
  add(MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&on_connection), impl_.get());
  add(MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&on_uri), nullptr);
  add(MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&on_mhd_log), &options_.name);
  if (options_.thread_per_connection) {
    flags |= MHD_USE_THREAD_PER_CONNECTION;
  } else if (options_.threads > 1) {
    add(MHD_OPTION_THREAD_POOL_SIZE, options_.threads, nullptr);
  }
  if (options_.tls) {
    flags |= MHD_USE_TLS;
    if (options_.tls->cert_pem.empty() || options_.tls->key_pem.empty()) {
      throw std::invalid_argument(options_.name + ": TLS needs both a certificate and a key");
    }
    add(MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(options_.tls->cert_pem.c_str()));
    add(MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(options_.tls->key_pem.c_str()));
    add(MHD_OPTION_HTTPS_PRIORITIES, 0,
        const_cast<char*>("SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"));
    if (!options_.tls->client_ca_pem.empty()) {
      add(MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(options_.tls->client_ca_pem.c_str()));
    }
  }
  add(MHD_OPTION_END, 0, nullptr);

  daemon_ = MHD_start_daemon(flags, addr.port, nullptr, nullptr, &on_access, impl_.get(),
                             MHD_OPTION_ARRAY, o.data(), MHD_OPTION_END);
  if (daemon_ == nullptr) {
    impl_.reset();
    throw std::runtime_error(options_.name + ": cannot listen on " + options_.listen +
                             " (address in use, bad TLS material, or no permission)");
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : addr.port;
  spdlog::info("{}: listening on {} (port {}){}", options_.name, options_.listen, port_,
               options_.tls ? (options_.tls->client_ca_pem.empty() ? ", TLS" : ", mTLS") : "");
}

void Server::stop() {
  if (daemon_ == nullptr) return;
  // Stop accepting first so no new work arrives while in-flight requests finish.
  MHD_socket listen_fd = MHD_quiesce_daemon(daemon_);
  const auto deadline = Clock::now() + options_.shutdown_grace;
  while (impl_->in_flight.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (impl_->in_flight.load() > 0) {
    spdlog::warn("{}: {} request(s) still running after the shutdown grace period", options_.name,
                 impl_->in_flight.load());
  }
  MHD_stop_daemon(daemon_);
  if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd);
  daemon_ = nullptr;
  impl_.reset();
  spdlog::info("{}: stopped", options_.name);
}

}  // namespace gthulhu::http
