// The watch-stream decoder: newline-delimited JSON events split anywhere across chunks,
// malformed lines skipped with a reason, ERROR and BOOKMARK events, the line bound.
#include <gtest/gtest.h>

#include "coordinator/kube/api_status.h"
#include "coordinator/kube/watch_decoder.h"

using namespace gthulhu::coordinator::kube;

namespace {
const std::string kAdded =
    R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","namespace":"ns","resourceVersion":"10"}}})";
const std::string kBookmark =
    R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"42","annotations":{"k8s.io/initial-events-end":"true"}}}})";
const std::string kGone =
    R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 5 (80)","reason":"Expired","code":410}})J";
}  // namespace

TEST(WatchDecoder, WholeLinesGiveEvents) {
  WatchDecoder d;
  auto out = d.feed(kAdded + "\n" + kBookmark + "\n");
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_TRUE(out.problems.empty());
  EXPECT_EQ(out.events[0].type, WatchEventType::Added);
  EXPECT_EQ(out.events[0].object["metadata"]["name"], "a");
  EXPECT_EQ(out.events[1].type, WatchEventType::Bookmark);
  EXPECT_EQ(out.events[1].object["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(WatchDecoder, EverySplitPointGivesTheSameEvents) {
  const std::string body = kAdded + "\n" + kBookmark + "\r\n" + kGone + "\n";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    WatchDecoder d;
    auto a = d.feed(std::string_view(body).substr(0, cut));
    auto b = d.feed(std::string_view(body).substr(cut));
    a.events.insert(a.events.end(), b.events.begin(), b.events.end());
    ASSERT_EQ(a.events.size(), 3u) << "cut at " << cut;
    EXPECT_TRUE(a.problems.empty() && b.problems.empty()) << "cut at " << cut;
    EXPECT_EQ(a.events[2].type, WatchEventType::Error);
  }
}

TEST(WatchDecoder, ByteByByte) {
  const std::string body = kAdded + "\n" + kAdded + "\n";
  WatchDecoder d;
  size_t events = 0;
  for (char c : body) events += d.feed(std::string_view(&c, 1)).events.size();
  EXPECT_EQ(events, 2u);
}

TEST(WatchDecoder, AnIncompleteLineWaitsForItsNewline) {
  WatchDecoder d;
  auto out = d.feed(kAdded);
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(d.pending_bytes(), kAdded.size());
  out = d.feed("\n");
  EXPECT_EQ(out.events.size(), 1u);
}

TEST(WatchDecoder, MalformedLinesAreSkippedWithAReasonAndTheStreamGoesOn) {
  WatchDecoder d;
  const std::string body = "{not json\n" + std::string("[1,2]\n") + R"({"object":{}})" + "\n" +
                           R"({"type":"RENAMED","object":{}})" + "\n" + R"({"type":"ADDED"})" +
                           "\n" + R"({"type":"ADDED","object":"x"})" + "\n\n   \n" + kAdded + "\n";
  auto out = d.feed(body);
  ASSERT_EQ(out.events.size(), 1u);
  ASSERT_EQ(out.problems.size(), 6u);
  EXPECT_NE(out.problems[0].find("not JSON"), std::string::npos) << out.problems[0];
  EXPECT_NE(out.problems[1].find("not a JSON object"), std::string::npos) << out.problems[1];
  EXPECT_NE(out.problems[2].find("no \"type\""), std::string::npos) << out.problems[2];
  EXPECT_NE(out.problems[3].find("RENAMED"), std::string::npos) << out.problems[3];
  EXPECT_NE(out.problems[4].find("without an \"object\""), std::string::npos) << out.problems[4];
  EXPECT_NE(out.problems[5].find("without an \"object\""), std::string::npos) << out.problems[5];
}

TEST(WatchDecoder, AnOverLongLineIsDroppedWithoutBufferingItAll) {
  WatchDecoder d(64);
  auto out = d.feed(std::string(50, 'x'));
  EXPECT_TRUE(out.problems.empty());
  out = d.feed(std::string(50, 'x'));  // now over the bound: dropped
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_NE(out.problems[0].find("longer than 64"), std::string::npos);
  EXPECT_EQ(d.pending_bytes(), 0u);
  out = d.feed(std::string(1000, 'y'));  // still the same line
  EXPECT_TRUE(out.problems.empty());
  EXPECT_EQ(d.pending_bytes(), 0u);
  const std::string small = R"({"type":"BOOKMARK","object":{"metadata":{}}})";
  out = d.feed("tail\n" + small + "\n");
  EXPECT_EQ(out.events.size(), 1u);
  EXPECT_TRUE(out.problems.empty());
}

TEST(WatchDecoder, ErrorEventCarriesAGoneStatus) {
  WatchDecoder d;
  auto out = d.feed(kGone + "\n");
  ASSERT_EQ(out.events.size(), 1u);
  auto status = parse_status(out.events[0].object);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code, 410);
  EXPECT_EQ(status->reason, "Expired");
  EXPECT_TRUE(is_gone(*status));
  EXPECT_FALSE(is_gone(ApiStatus{500, "InternalError", "etcd down"}));
}

TEST(ApiStatus, DescribesStatusBodiesAndOtherBodies) {
  EXPECT_EQ(describe_failure(403, R"({"kind":"Status","code":403,"reason":"Forbidden","message":"pods is forbidden"})"),
            "HTTP 403 (Forbidden): pods is forbidden");
  EXPECT_EQ(describe_failure(502, "bad gateway"), "HTTP 502: bad gateway");
  EXPECT_FALSE(parse_status(nlohmann::json::parse(R"({"kind":"Pod"})")).has_value());
}
