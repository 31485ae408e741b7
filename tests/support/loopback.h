#pragma once
// Raw TCP on loopback for tests that must misbehave in ways an HTTP client library
// will not (send nothing, send half a request, stream an endless chunked body).
#include <chrono>
#include <cstdint>
#include <string>

namespace gthulhu::test {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released),
// for a child server that binds it right after; never the same port twice in one
// process. Throws std::runtime_error.
uint16_t free_loopback_port();

class RawConnection {
 public:
  // `source`: the local address to connect from (another 127.x.y.z acts as another
  // client machine); empty = the kernel's choice.
  explicit RawConnection(uint16_t port, const std::string& source = {});
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool send_all(const std::string& data);
  // Reads until the peer closes or the timeout passes; returns what arrived.
  std::string read_until_close(std::chrono::milliseconds timeout);
  // Reads one HTTP response (head + Content-Length body) without waiting for a close;
  // returns what arrived when the timeout passes first.
  std::string read_response(std::chrono::milliseconds timeout);
  // True when the server closed the connection within the timeout.
  bool closed_by_peer_within(std::chrono::milliseconds timeout);
  // Sends `data` one byte every `interval` (then keeps sending `filler` bytes) until
  // the server closes the connection; false if it has not within `timeout`.
  bool trickle_until_closed(const std::string& data, std::chrono::milliseconds interval,
                            std::chrono::milliseconds timeout, char filler = 'x');

 private:
  int fd_ = -1;
};

}  // namespace gthulhu::test
