// The Kubernetes watch stream decoder (coordinator/kube/watch_decoder.*): any body,
// cut into chunks anywhere, must decode to the same events and the same number of
// skipped lines as the body fed in one piece, never buffer more than the line bound,
// and hand on only objects; each event object then goes through the pod decoder,
// which must answer with a pod or a problem, never an exception.
// Input: byte 0 picks the line bound (small bounds reach the over-long-line path),
// byte 1 seeds the chunk sizes, the rest is the response body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "coordinator/kube/pod_json.h"
#include "coordinator/kube/watch_decoder.h"

using gthulhu::coordinator::kube::DecodedChunk;
using gthulhu::coordinator::kube::WatchDecoder;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "watch_decoder_fuzz: %s\n", what);
  std::abort();
}

void append(DecodedChunk& total, DecodedChunk&& part) {
  for (auto& e : part.events) total.events.push_back(std::move(e));
  for (auto& p : part.problems) total.problems.push_back(std::move(p));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // 0: the production bound (16 MiB); else 8..2040 bytes.
  const size_t max_line = data[0] == 0 ? (16u << 20) : size_t{data[0]} * 8;
  uint32_t rng = data[1] * 2654435761u + 1;
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);

  WatchDecoder whole_decoder(max_line);
  DecodedChunk whole = whole_decoder.feed(body);

  WatchDecoder chunked_decoder(max_line);
  DecodedChunk chunked;
  for (size_t off = 0; off < body.size();) {
    rng = rng * 1103515245u + 12345u;
    const size_t n = 1 + (rng >> 16) % 64;
    append(chunked, chunked_decoder.feed(body.substr(off, n)));
    off += n;
    if (chunked_decoder.pending_bytes() > max_line) fail("buffered more than the line bound");
  }

  if (whole_decoder.pending_bytes() != chunked_decoder.pending_bytes())
    fail("pending bytes depend on the chunking");
  if (whole.events.size() != chunked.events.size()) fail("event count depends on the chunking");
  if (whole.problems.size() != chunked.problems.size())
    fail("problem count depends on the chunking");
  for (size_t i = 0; i < whole.events.size(); ++i) {
    const auto& a = whole.events[i];
    const auto& b = chunked.events[i];
    if (a.type != b.type || a.object != b.object) fail("an event depends on the chunking");
    if (!a.object.is_object()) fail("an event object that is not a JSON object");
    std::string problem;
    auto pod = gthulhu::coordinator::kube::pod_from_json(a.object, problem);
    if (!pod && problem.empty()) fail("a refused pod without a problem");
    (void)gthulhu::coordinator::kube::pod_creation_timestamp(a.object);
  }
  for (const auto& p : whole.problems)
    if (p.empty()) fail("an empty problem text");
  return 0;
}
