// The agent's intent set: upstream full lists, deltas with generations (apply, replay,
// gap -> mismatch), per-entry validation, and durable restore.
#include "agent/intent_store.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

using namespace gthulhu::agent;
using nlohmann::json;

namespace {
const char* kPodA = "11111111-2222-3333-4444-555555555555";
const char* kPodB = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

json intent(const std::string& id, const std::string& pod, int prio = 5) {
  return {{"id", id}, {"podID", pod}, {"priority", prio}, {"executionTime", 4000000}};
}
}  // namespace

TEST(IntentStore, FullListReplacesAndBumpsGeneration) {
  IntentStore s;
  auto r = s.apply({{"intents", {intent("a", kPodA), intent("b", kPodB)}}});
  EXPECT_EQ(r.outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(r.generation, 1u);
  r = s.apply({{"intents", {intent("c", kPodA)}}});
  EXPECT_EQ(r.generation, 2u);
  auto snap = s.snapshot();
  ASSERT_EQ(snap.intents.size(), 1u);
  EXPECT_TRUE(snap.intents.count("c"));
}

TEST(IntentStore, UpstreamListWithoutIdsGetsStableDerivedIds) {
  IntentStore s;
  json upstream = {{"intents",
                    {{{"podName", "web-1"}, {"podID", kPodA}, {"nodeID", "n1"}, {"k8sNamespace", "web"},
                      {"commandRegex", "^nginx"}, {"priority", 10}, {"executionTime", 20000000},
                      {"podLabels", {{"app", "nginx"}}}}}}};
  s.apply(upstream);
  auto first = s.snapshot().intents.begin()->first;
  s.apply(upstream);
  EXPECT_EQ(s.snapshot().intents.begin()->first, first);
  EXPECT_EQ(first.rfind("d-", 0), 0u);
  const auto snap = s.snapshot();
  const auto& in = *snap.intents.begin()->second.intent;
  EXPECT_EQ(in.pod_labels.at("app"), "nginx");
  EXPECT_EQ(in.execution_time_ns, 20000000u);
}

TEST(IntentStore, DeltaAppliesReplaysAndRejectsGaps) {
  IntentStore s;
  s.apply({{"generation", 7}, {"intents", {intent("a", kPodA)}}});
  ASSERT_EQ(s.generation(), 7u);

  json delta = {{"baseGeneration", 7}, {"generation", 8}, {"upserts", {intent("b", kPodB)}},
                {"removals", {"a"}}};
  auto r = s.apply(delta);
  EXPECT_EQ(r.outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(r.generation, 8u);
  EXPECT_EQ(s.snapshot().intents.size(), 1u);
  EXPECT_TRUE(s.snapshot().intents.count("b"));

  // The same delta again (a retry after a lost answer) changes nothing.
  r = s.apply(delta);
  EXPECT_EQ(r.outcome, ApplyOutcome::kReplay);
  EXPECT_EQ(s.generation(), 8u);
  EXPECT_EQ(s.snapshot().intents.size(), 1u);

  // A delta based on a generation the agent never had: mismatch, state untouched.
  r = s.apply({{"baseGeneration", 10}, {"generation", 11}, {"upserts", {intent("x", kPodA)}}});
  EXPECT_EQ(r.outcome, ApplyOutcome::kGenerationMismatch);
  EXPECT_EQ(r.generation, 8u);
  EXPECT_FALSE(s.snapshot().intents.count("x"));

  // The coordinator then sends a snapshot.
  r = s.apply({{"generation", 11}, {"intents", {intent("x", kPodA)}}});
  EXPECT_EQ(r.generation, 11u);
  EXPECT_TRUE(s.snapshot().intents.count("x"));
}

TEST(IntentStore, BadShapesAreRejectedWholeButBadEntriesAreKeptAsInvalid) {
  IntentStore s;
  EXPECT_EQ(s.apply(json::array()).outcome, ApplyOutcome::kBadRequest);
  EXPECT_EQ(s.apply({{"something", 1}}).outcome, ApplyOutcome::kBadRequest);
  EXPECT_EQ(s.apply({{"intents", "no"}}).outcome, ApplyOutcome::kBadRequest);
  EXPECT_EQ(s.apply({{"baseGeneration", 1}}).outcome, ApplyOutcome::kBadRequest);
  EXPECT_EQ(s.apply({{"baseGeneration", 2}, {"generation", 1}}).outcome, ApplyOutcome::kBadRequest);
  EXPECT_EQ(s.generation(), 0u);

  auto r = s.apply({{"intents",
                     {intent("ok", kPodA), intent("prio", kPodA, 99),
                      {{"id", "uid"}, {"podID", "not-a-uid"}},
                      {{"id", "neg"}, {"podID", kPodA}, {"executionTime", -1}}}}});
  EXPECT_EQ(r.outcome, ApplyOutcome::kApplied);
  auto snap = s.snapshot();
  ASSERT_EQ(snap.intents.size(), 4u);
  EXPECT_TRUE(snap.intents.at("ok").intent.has_value());
  EXPECT_NE(snap.intents.at("prio").error.find("outside -20..20"), std::string::npos);
  EXPECT_NE(snap.intents.at("uid").error.find("not a pod UID"), std::string::npos);
  EXPECT_NE(snap.intents.at("neg").error.find("non-negative"), std::string::npos);
}

TEST(IntentStore, SliceIsClampedIntoTheDocumentedRange) {
  IntentStore s;
  s.apply({{"intents",
            {{{"id", "tiny"}, {"podID", kPodA}, {"executionTime", 1000}},
             {{"id", "huge"}, {"podID", kPodA}, {"executionTime", 10000000000LL}},
             {{"id", "dflt"}, {"podID", kPodA}, {"executionTime", 0}}}}});
  auto snap = s.snapshot();
  EXPECT_EQ(snap.intents.at("tiny").intent->execution_time_ns, 500000u);
  EXPECT_EQ(snap.intents.at("huge").intent->execution_time_ns, 100000000u);
  EXPECT_EQ(snap.intents.at("dflt").intent->execution_time_ns, 0u);
}

TEST(IntentStore, AcceptsPascalCaseFromTheManagerListing) {
  IntentStore s;
  s.apply({{"intents", {{{"ID", "p"}, {"PodID", kPodA}, {"Priority", 3}, {"CommandRegex", "^x"}}}}});
  const auto snap = s.snapshot();
  const auto& in = *snap.intents.at("p").intent;
  EXPECT_EQ(in.priority, 3);
  EXPECT_EQ(in.command_regex, "^x");
}

TEST(IntentStore, PersistsAndRestoresIncludingReplayDetection) {
  gthulhu::test::TempDir dir;
  auto file = dir.path() / "intents.json";
  json delta = {{"baseGeneration", 3}, {"generation", 4}, {"upserts", {intent("b", kPodB)}}};
  {
    IntentStore s(file);
    s.apply({{"generation", 3}, {"intents", {intent("a", kPodA)}}});
    s.apply(delta);
  }
  IntentStore restored(file);
  EXPECT_EQ(restored.generation(), 4u);
  EXPECT_EQ(restored.snapshot().intents.size(), 2u);
  EXPECT_EQ(restored.apply(delta).outcome, ApplyOutcome::kReplay);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
}

TEST(IntentStore, CorruptStateFileIsAClearError) {
  gthulhu::test::TempDir dir;
  auto file = dir.write("intents.json", "{not json");
  try {
    IntentStore s(file);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos);
  }
}
