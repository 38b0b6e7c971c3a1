#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/feedback_store.h"
#include "gateway/usage_ledger.h"

namespace tessera::gateway {
namespace {

std::string TempDbPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir ? dir : "/tmp", "/", name, ".sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

tessera::common::v1::Usage Tokens(int prompt, int completion, int cost) {
  tessera::common::v1::Usage usage;
  usage.set_prompt_tokens(prompt);
  usage.set_completion_tokens(completion);
  usage.set_total_tokens(prompt + completion);
  usage.set_cost_micros(cost);
  return usage;
}

TEST(UsageLedgerTest, SumsPerTenantSinceAndSurvivesReopen) {
  const std::string path = TempDbPath("usage");
  FakeClock clock;
  const absl::Time start = clock.Now();
  {
    auto ledger = UsageLedger::Open(path, &clock);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    (*ledger)->RecordRequest("acme");
    (*ledger)->RecordUsage("acme", Tokens(10, 5, 7));
    (*ledger)->RecordRequest("globex");
    clock.Advance(absl::Minutes(10));
    (*ledger)->RecordRequest("acme");
    (*ledger)->RecordUsage("acme", Tokens(1, 1, 1));
    auto all = (*ledger)->Totals("acme", absl::InfinitePast());
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(all->requests, 2);
    EXPECT_EQ(all->usage.prompt_tokens(), 11);
    EXPECT_EQ(all->usage.total_tokens(), 17);
    EXPECT_EQ(all->usage.cost_micros(), 8);
    auto recent = (*ledger)->Totals("acme", start + absl::Minutes(5));
    ASSERT_TRUE(recent.ok());
    EXPECT_EQ(recent->requests, 1);
    EXPECT_EQ(recent->usage.cost_micros(), 1);
    (*ledger)->RecordRequest("acme");  // written at destruction
  }
  auto reopened = UsageLedger::Open(path, &clock);
  ASSERT_TRUE(reopened.ok());
  auto totals = (*reopened)->Totals("acme", absl::InfinitePast());
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->requests, 3);
  EXPECT_EQ((*reopened)->Totals("globex", absl::InfinitePast())->requests, 1);
  EXPECT_EQ((*reopened)->Totals("nobody", absl::InfinitePast())->requests, 0);
}

TEST(FeedbackStoreTest, StoresPerTenantValidatesAndExports) {
  FakeClock clock;
  auto store = FeedbackStore::Open(TempDbPath("feedback"), &clock);
  ASSERT_TRUE(store.ok()) << store.status();
  tessera::common::v1::Feedback feedback;
  feedback.set_request_id("req-1");
  feedback.set_rating(tessera::common::v1::Feedback::THUMBS_DOWN);
  feedback.set_corrected_output("The answer is 42.");
  (*feedback.mutable_labels())["topic"] = "math";
  auto id = (*store)->Submit("acme", feedback);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(absl::StartsWith(*id, "fb_"));

  auto listed = (*store)->List("acme", "req-1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].corrected_output(), "The answer is 42.");
  EXPECT_EQ((*listed)[0].labels().at("topic"), "math");
  EXPECT_TRUE((*store)->List("globex")->empty());

  auto jsonl = (*store)->ExportJsonl("acme");
  ASSERT_TRUE(jsonl.ok());
  EXPECT_TRUE(absl::StrContains(*jsonl, "\"rating\":\"thumbs_down\"")) << *jsonl;
  EXPECT_TRUE(absl::EndsWith(*jsonl, "}\n"));

  tessera::common::v1::Feedback bad;
  EXPECT_TRUE(absl::StrContains((*store)->Submit("acme", bad).status().message(), "request_id"));
  bad.set_request_id("req-2");
  EXPECT_TRUE(absl::StrContains((*store)->Submit("acme", bad).status().message(), "nothing"));
  bad.set_score(9);
  EXPECT_TRUE(absl::StrContains((*store)->Submit("acme", bad).status().message(), "score"));
}

}  // namespace
}  // namespace tessera::gateway
