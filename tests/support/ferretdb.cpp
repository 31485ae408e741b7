#include "tests/support/ferretdb.h"
#include "tests/support/loopback.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace gthulhu::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}


void put_le32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// {ping: 1, $db: "admin"} as an OP_MSG with one kind-0 section.
std::string ping_message() {
  std::string doc;
  doc.push_back('\x10');
  doc.append("ping", 5);  // with the NUL
  put_le32(doc, 1);
  doc.push_back('\x02');
  doc.append("$db", 4);
  put_le32(doc, 6);
  doc.append("admin", 6);
  doc.push_back('\0');
  std::string bson;
  put_le32(bson, static_cast<uint32_t>(doc.size() + 4));
  bson += doc;

  std::string body;
  put_le32(body, 0);  // flagBits
  body.push_back('\0');  // section kind 0
  body += bson;

  std::string msg;
  put_le32(msg, static_cast<uint32_t>(16 + body.size()));
  put_le32(msg, 1);     // requestID
  put_le32(msg, 0);     // responseTo
  put_le32(msg, 2013);  // OP_MSG
  msg += body;
  return msg;
}

// Walks the top-level elements of a BSON document looking for ok == 1.
bool bson_ok_is_one(const unsigned char* doc, size_t size) {
  if (size < 5 || get_le32(doc) != size) return false;
  size_t i = 4;
  while (i < size && doc[i] != 0) {
    const unsigned char type = doc[i++];
    const char* name = reinterpret_cast<const char*>(doc + i);
    size_t name_len = strnlen(name, size - i);
    if (i + name_len >= size) return false;
    i += name_len + 1;
    const bool is_ok = std::strcmp(name, "ok") == 0;
    size_t n = 0;
    switch (type) {
      case 0x01: {  // double
        if (i + 8 > size) return false;
        if (is_ok) {
          double d;
          std::memcpy(&d, doc + i, 8);
          return d == 1.0;
        }
        n = 8;
        break;
      }
      case 0x10:  // int32
        if (i + 4 > size) return false;
        if (is_ok) return get_le32(doc + i) == 1;
        n = 4;
        break;
      case 0x12:  // int64
        if (i + 8 > size) return false;
        if (is_ok) return get_le32(doc + i) == 1 && get_le32(doc + i + 4) == 0;
        n = 8;
        break;
      case 0x02: case 0x0D: case 0x0E:  // string, code, symbol
        if (i + 4 > size) return false;
        n = 4 + get_le32(doc + i);
        break;
      case 0x03: case 0x04:  // document, array
        if (i + 4 > size) return false;
        n = get_le32(doc + i);
        break;
      case 0x05:  // binary
        if (i + 4 > size) return false;
        n = 5 + get_le32(doc + i);
        break;
      case 0x07: n = 12; break;                      // ObjectId
      case 0x08: n = 1; break;                       // bool
      case 0x09: case 0x11: n = 8; break;            // datetime, timestamp
      case 0x0A: case 0x06: case 0x7F: case 0xFF: n = 0; break;  // null, undefined, min/max
      case 0x13: n = 16; break;                      // decimal128
      default: return false;
    }
    i += n;
  }
  return false;
}

bool read_exact(int fd, unsigned char* buf, size_t n, Clock::time_point deadline) {
  size_t got = 0;
  while (got < n) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    ssize_t r = ::recv(fd, buf + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

std::filesystem::path FerretDb::binary_path() {
  if (auto v = env_or_empty("GTHULHU_FERRETDB"); !v.empty()) return v;
  std::filesystem::path cache;
  if (auto v = env_or_empty("GTHULHU_CACHE"); !v.empty()) {
    cache = v;
  } else if (auto x = env_or_empty("XDG_CACHE_HOME"); !x.empty()) {
    cache = std::filesystem::path(x) / "gthulhu";
  } else {
    cache = std::filesystem::path(env_or_empty("HOME")) / ".cache" / "gthulhu";
  }
  return cache / "bin" / "ferretdb";
}

const std::string& FerretDb::unavailable_reason() {
  static std::once_flag once;
  static std::string reason;
  std::call_once(once, [] {
    const auto bin = binary_path();
    if (::access(bin.c_str(), X_OK) != 0) {
      reason = "FerretDB not found at " + bin.string() +
               " (run scripts/ferretdb.sh, or set GTHULHU_FERRETDB)";
      return;
    }
    // A binary built with plain `go install` panics at start-up (no version.txt);
    // find that out once here instead of in every test.
    const std::string cmd = "'" + bin.string() + "' --version 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    if (p) {
      char buf[512];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0 && out.size() < 4096) out.append(buf, n);
      int rc = ::pclose(p);
      if (rc == 0 && out.find("version:") != std::string::npos) return;
    }
    auto nl = out.find('\n');
    reason = "FerretDB at " + bin.string() + " does not run: " +
             (nl == std::string::npos ? out : out.substr(0, nl));
  });
  return reason;
}

FerretDb::FerretDb() : port_(free_loopback_port()) {
  std::filesystem::create_directories(dir_.path() / "data");
  std::filesystem::create_directories(dir_.path() / "state");
}

FerretDb::~FerretDb() { stop(); }

std::string FerretDb::uri() const {
  return "mongodb://127.0.0.1:" + std::to_string(port_) + "/";
}

std::string FerretDb::log_tail(size_t max_bytes) const {
  std::ifstream in(dir_.path() / "ferretdb.log", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

bool FerretDb::start(milliseconds timeout) {
  last_error_.clear();
  if (running()) return true;
  if (const auto& why = unavailable_reason(); !why.empty()) {
    last_error_ = why;
    return false;
  }
  const std::string bin = binary_path().string();
  const std::string data = (dir_.path() / "data").string() + "/";
  std::vector<std::string> args = {
      bin,
      "--handler=sqlite",
      "--sqlite-url=file:" + data,
      "--listen-addr=127.0.0.1:" + std::to_string(port_),
      "--state-dir=" + (dir_.path() / "state").string(),
      "--telemetry=disable",
      "--debug-addr=-",
      "--log-level=warn",
  };
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = (dir_.path() / "ferretdb.log").string();
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    last_error_ = "fork: " + std::string(std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      if (fd > STDERR_FILENO) ::close(fd);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      last_error_ = "FerretDB exited during start-up (status " + std::to_string(status) +
                    "); log:\n" + log_tail();
      return false;
    }
    if (ping(port_, milliseconds(500))) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  last_error_ = "FerretDB did not answer a ping on port " + std::to_string(port_) + " within " +
                std::to_string(timeout.count()) + " ms; log:\n" + log_tail();
  kill();
  return false;
}

void FerretDb::reap(milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return;
    }
    if (Clock::now() >= deadline) return;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

void FerretDb::stop(milliseconds grace) {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  reap(grace);
  if (running()) kill();
}

void FerretDb::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  reap(milliseconds(10000));
}

bool FerretDb::ping(uint16_t port, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return false;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLOUT, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
  }
  const std::string msg = ping_message();
  if (::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size())) {
    return false;
  }
  unsigned char header[16];
  if (!read_exact(fd, header, sizeof header, deadline)) return false;
  const uint32_t len = get_le32(header);
  if (get_le32(header + 12) != 2013 || len < 16 + 5 + 5 || len > (1u << 24)) return false;
  std::vector<unsigned char> body(len - 16);
  if (!read_exact(fd, body.data(), body.size(), deadline)) return false;
  // flagBits (4), section kind (1) == 0, then the document.
  if (body[4] != 0) return false;
  const uint32_t doc_len = get_le32(body.data() + 5);
  if (doc_len > body.size() - 5) return false;
  return bson_ok_is_one(body.data() + 5, doc_len);
}

}  // namespace gthulhu::test
