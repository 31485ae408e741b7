#include "common/http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

namespace gthulhu::http {
namespace {

std::once_flag curl_init_once;

struct Transfer {
  std::string* body;
  size_t limit;
  bool overflow = false;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  bool stopped_by_callback = false;
  std::map<std::string, std::string>* headers;
  const Client::StatusDataCallback* on_status_data = nullptr;
  CURL* handle = nullptr;
  const std::atomic<bool>* cancel = nullptr;
};

bool deliver(Transfer* t, std::string_view data) {
  if (t->on_status_data != nullptr) {
    long status = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
    return (*t->on_status_data)(status, data);
  }
  return (*t->on_data)(data);
}

// Non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int on_progress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(userdata);
  return t->cancel->load() ? 1 : 0;
}

size_t on_body(char* ptr, size_t size, size_t n, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t len = size * n;
  if (t->on_data != nullptr || t->on_status_data != nullptr) {
    if (!deliver(t, std::string_view(ptr, len))) {
      t->stopped_by_callback = true;
      return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    return len;
  }
  if (t->body->size() + len > t->limit) {
    t->overflow = true;
    return 0;
  }
  t->body->append(ptr, len);
  return len;
}

size_t on_header(char* ptr, size_t size, size_t n, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t len = size * n;
  std::string line(ptr, len);
  if (line.rfind("HTTP/", 0) == 0) t->headers->clear();  // a new response (after 100/redirect)
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string key = line.substr(0, colon);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    (*t->headers)[key] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return len;
}

curl_blob blob_of(const std::string& s) {
  return curl_blob{const_cast<char*>(s.data()), s.size(), CURL_BLOB_COPY};
}

}  // namespace

Client::Client(ClientOptions options) : options_(std::move(options)) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

ClientResult Client::post_json(const std::string& url, const std::string& json,
                               std::vector<std::string> headers) {
  headers.emplace_back("Content-Type: application/json");
  return request("POST", url, json, headers);
}

ClientResult Client::stream(const std::string& url, const std::vector<std::string>& headers,
                            const std::function<bool(std::string_view)>& on_data) {
  return perform("GET", url, {}, headers, &on_data, nullptr, options_.total_timeout);
}

ClientResult Client::stream_with_status(const std::string& url,
                                        const std::vector<std::string>& headers,
                                        const StatusDataCallback& on_data) {
  return perform("GET", url, {}, headers, nullptr, &on_data, options_.total_timeout);
}

ClientResult Client::request(const std::string& method, const std::string& url,
                             const std::string& body, const std::vector<std::string>& headers) {
  return perform(method, url, body, headers, nullptr, nullptr, options_.total_timeout);
}

ClientResult Client::request(const std::string& method, const std::string& url,
                             const std::string& body, const std::vector<std::string>& headers,
                             std::chrono::milliseconds total_timeout) {
  return perform(method, url, body, headers, nullptr, nullptr, total_timeout);
}

ClientResult Client::perform(const std::string& method, const std::string& url,
                             const std::string& body, const std::vector<std::string>& headers,
                             const std::function<bool(std::string_view)>* on_data,
                             const StatusDataCallback* on_status_data,
                             std::chrono::milliseconds total_timeout) {
  std::lock_guard lock(mu_);
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // keeps the connection cache, drops the previous request's options
  ClientResult result;
  Transfer t{&result.response.body, options_.max_response_bytes, false, on_data, false,
             &result.response.headers, on_status_data, c, options_.cancel};
  if (options_.cancel != nullptr && options_.cancel->load()) {
    result.cancelled = true;
    result.error = "cancelled before the request started";
    return result;
  }

  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  // curl adds "Expect: 100-continue" to large bodies; our servers answer directly.
  list = curl_slist_append(list, "Expect:");

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout.count()));
  if (options_.low_speed_timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_timeout.count()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_peer ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_peer ? 2L : 0L);
  curl_blob ca{}, cert{}, key{};
  if (!options_.ca_pem.empty()) {
    ca = blob_of(options_.ca_pem);
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  }
  if (!options_.client_cert_pem.empty()) {
    cert = blob_of(options_.client_cert_pem);
    key = blob_of(options_.client_key_pem);
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (!options_.local_address.empty()) {
    // "host!" makes curl bind this address rather than look up an interface name.
    curl_easy_setopt(c, CURLOPT_INTERFACE, ("host!" + options_.local_address).c_str());
  }
  curl_slist* connect_to = nullptr;
  if (!options_.connect_to.empty()) {
    // "::IP:PORT" keeps the URL's host and port as the match (any), so the request
    // goes to the given address while SNI and certificate checks use the URL's host.
    std::string target = options_.connect_to;
    const bool has_port = target.front() == '['
                              ? target.find("]:") != std::string::npos
                              : target.find(':') != std::string::npos;
    if (!has_port) target += ":";
    connect_to = curl_slist_append(connect_to, ("::" + target).c_str());
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
  }
  if (options_.cancel != nullptr) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  }
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.response.status);
  curl_slist_free_all(list);
  curl_slist_free_all(connect_to);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_CONNECT_TO, nullptr);

  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.stopped_by_callback)) {
    result.ok = true;
  } else if (rc == CURLE_ABORTED_BY_CALLBACK && options_.cancel != nullptr &&
             options_.cancel->load()) {
    result.cancelled = true;
    result.error = "cancelled";
  } else if (t.overflow) {
    result.error = "response larger than " + std::to_string(options_.max_response_bytes) + " bytes";
  } else {
    result.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    result.error = std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
  }
  return result;
}

}  // namespace gthulhu::http
