#include "retrieval/sharding/hash_ring.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tessera::retrieval::sharding {
namespace {

TEST(HashRingTest, SpreadsKeysEvenly) {
  HashRing ring;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ring.AddShard(absl::StrCat("shard-", i)).ok());
  std::map<std::string, int> counts;
  const int keys = 30000;
  for (int i = 0; i < keys; ++i) ++counts[ring.Owner(absl::StrCat("doc-", i))];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [shard, count] : counts) {
    EXPECT_GT(count, keys / 3 * 0.8) << shard;
    EXPECT_LT(count, keys / 3 * 1.2) << shard;
  }
}

TEST(HashRingTest, AddingAShardMovesOnlyItsShareToIt) {
  HashRing before;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(before.AddShard(absl::StrCat("shard-", i)).ok());
  HashRing after = before;
  ASSERT_TRUE(after.AddShard("shard-3").ok());
  const int keys = 20000;
  int moved = 0;
  for (int i = 0; i < keys; ++i) {
    const std::string key = absl::StrCat("doc-", i);
    if (before.Owner(key) == after.Owner(key)) continue;
    ++moved;
    EXPECT_EQ(after.Owner(key), "shard-3") << key;  // Never between old shards.
  }
  EXPECT_GT(moved, keys / 4 * 0.8);
  EXPECT_LT(moved, keys / 4 * 1.2);
}

TEST(HashRingTest, OwnersDependOnNamesNotOrder) {
  HashRing a;
  HashRing b;
  for (const char* name : {"x", "y", "z"}) ASSERT_TRUE(a.AddShard(name).ok());
  for (const char* name : {"z", "x", "y"}) ASSERT_TRUE(b.AddShard(name).ok());
  for (int i = 0; i < 1000; ++i) {
    const std::string key = absl::StrCat(i);
    EXPECT_EQ(a.Owner(key), b.Owner(key));
  }
  // Stable across processes and builds: a fixed key has a fixed owner.
  EXPECT_EQ(RingHash("doc-1"), RingHash("doc-1"));
  EXPECT_NE(RingHash("doc-1"), RingHash("doc-2"));
}

TEST(HashRingTest, RemovingAShardHandsItsKeysToTheOthers) {
  HashRing ring;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ring.AddShard(absl::StrCat("s", i)).ok());
  HashRing smaller = ring;
  ASSERT_TRUE(smaller.RemoveShard("s2").ok());
  for (int i = 0; i < 5000; ++i) {
    const std::string key = absl::StrCat("k", i);
    if (ring.Owner(key) != "s2") EXPECT_EQ(ring.Owner(key), smaller.Owner(key));
    EXPECT_NE(smaller.Owner(key), "s2");
  }
}

TEST(HashRingTest, RejectsBadShards) {
  HashRing ring;
  EXPECT_EQ(ring.AddShard("").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ring.AddShard("a").ok());
  EXPECT_EQ(ring.AddShard("a").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ring.RemoveShard("b").code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::retrieval::sharding
