#include "agents/retriever.h"

#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

TEST(KeywordRetrieverTest, RanksByBm25AndScopesByTenant) {
  KeywordRetriever retriever;
  retriever.Add("acme", "kb", "refunds", "Refunds are issued within 14 days of a return.");
  retriever.Add("acme", "kb", "shipping", "Shipping takes 3 days. Shipping is free over 50 euros.");
  retriever.Add("acme", "kb", "returns", "Returns need the receipt.");
  retriever.Add("other", "kb", "secret", "Refunds for other tenant");
  auto hits = retriever.Retrieve("acme", "kb", "How fast are refunds issued?", 2);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);  // Only passages sharing a term are returned.
  EXPECT_EQ((*hits)[0].id, "refunds");
  hits = retriever.Retrieve("acme", "kb", "shipping days", 5);
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].id, "shipping");
  EXPECT_GT((*hits)[0].score, (*hits)[1].score);
  EXPECT_EQ(retriever.Retrieve("nobody", "kb", "refunds", 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(retriever.Retrieve("acme", "kb", "x", 0).ok());
  EXPECT_EQ(PassagesToJson(*hits)[0]["id"], "shipping");
}

}  // namespace
}  // namespace tessera::agents
