#include "engine/serving/block_manager.h"

#include <numeric>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::serving {
namespace {

std::vector<int32_t> Range(int32_t first, int count) {
  std::vector<int32_t> out(count);
  std::iota(out.begin(), out.end(), first);
  return out;
}

TEST(BlockManagerTest, AllocatesAndFreesWholeBlocks) {
  BlockManager blocks(8, 4);
  BlockCopies copies;
  auto cached = blocks.Allocate(1, Range(100, 10), &copies);
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ(*cached, 0);
  EXPECT_EQ(blocks.BlockTable(1).size(), 3u);
  EXPECT_EQ(blocks.used_blocks(), 3);
  EXPECT_EQ(blocks.free_blocks(), 5);
  EXPECT_EQ(blocks.wasted_slots(), 2);  // 12 slots for 10 tokens.
  EXPECT_EQ(blocks.NumTokens(1), 10);
  EXPECT_EQ(blocks.Allocate(1, Range(0, 2), &copies).status().code(),
            absl::StatusCode::kAlreadyExists);
  blocks.Free(1);
  EXPECT_EQ(blocks.used_blocks(), 0);
  EXPECT_EQ(blocks.free_blocks(), 8);  // Nothing was computed, so nothing is cached.
  EXPECT_TRUE(copies.empty());
}

TEST(BlockManagerTest, AdmissionIsBoundedByFreeBlocks) {
  BlockManager blocks(4, 4);
  BlockCopies copies;
  ASSERT_TRUE(blocks.Allocate(1, Range(0, 9), &copies).ok());  // 3 blocks.
  EXPECT_FALSE(blocks.CanAllocate(Range(50, 5)));
  EXPECT_EQ(blocks.Allocate(2, Range(50, 5), &copies).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(blocks.CanAllocate(Range(50, 4)));
  EXPECT_TRUE(blocks.CanAppend(1, 3));   // Fills block 3 and the last one.
  EXPECT_FALSE(blocks.CanAppend(1, 8));
  EXPECT_EQ(blocks.Append(1, Range(9, 8), &copies).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(blocks.NumTokens(1), 9);  // A failed append changes nothing.
}

TEST(BlockManagerTest, ReusesComputedPrefixBlocksWithRefCounts) {
  BlockManager blocks(16, 4);
  BlockCopies copies;
  const std::vector<int32_t> prefix = Range(1, 12);
  ASSERT_TRUE(blocks.Allocate(1, prefix, &copies).ok());
  blocks.MarkComputed(1, 12);
  std::vector<int32_t> longer = prefix;
  longer.insert(longer.end(), {77, 78, 79});
  auto cached = blocks.Allocate(2, longer, &copies);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(*cached, 12);
  EXPECT_EQ(blocks.prefix_hit_tokens(), 12);
  const std::vector<int32_t> a(blocks.BlockTable(1).begin(), blocks.BlockTable(1).end());
  const std::vector<int32_t> b(blocks.BlockTable(2).begin(), blocks.BlockTable(2).end());
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(std::vector<int32_t>(b.begin(), b.begin() + 3), a);
  EXPECT_EQ(blocks.used_blocks(), 4);  // Three shared, one of its own.
  blocks.Free(1);
  EXPECT_EQ(blocks.used_blocks(), 4);  // Still referenced by sequence 2.
  blocks.Free(2);
  EXPECT_EQ(blocks.used_blocks(), 0);
  EXPECT_EQ(blocks.cached_blocks(), 3);  // Hashed blocks stay for reuse.
  // A different first block breaks the chain: nothing is reused.
  std::vector<int32_t> other = prefix;
  other[0] = 999;
  cached = blocks.Allocate(3, other, &copies);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(*cached, 0);
  EXPECT_TRUE(copies.empty());
}

TEST(BlockManagerTest, FullyCachedPromptCopiesItsLastBlock) {
  BlockManager blocks(8, 4);
  BlockCopies copies;
  const std::vector<int32_t> prompt = Range(10, 8);
  ASSERT_TRUE(blocks.Allocate(1, prompt, &copies).ok());
  blocks.MarkComputed(1, 8);
  auto cached = blocks.Allocate(2, prompt, &copies);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(*cached, 7);  // The last token runs again to give logits...
  ASSERT_EQ(copies.size(), 1u);  // ...into a private copy of the shared block.
  EXPECT_EQ(copies[0].first, blocks.BlockTable(1)[1]);
  EXPECT_EQ(copies[0].second, blocks.BlockTable(2)[1]);
  EXPECT_NE(blocks.BlockTable(1)[1], blocks.BlockTable(2)[1]);
  EXPECT_EQ(blocks.BlockTable(1)[0], blocks.BlockTable(2)[0]);
}

TEST(BlockManagerTest, AppendCopiesASharedPartialBlockAndTruncateReleases) {
  BlockManager blocks(8, 4);
  BlockCopies copies;
  ASSERT_TRUE(blocks.Allocate(1, Range(0, 5), &copies).ok());
  ASSERT_TRUE(blocks.Append(1, Range(5, 6), &copies).ok());
  EXPECT_EQ(blocks.NumTokens(1), 11);
  EXPECT_EQ(blocks.BlockTable(1).size(), 3u);
  EXPECT_TRUE(copies.empty());
  blocks.Truncate(1, 6);  // Rejected speculative tokens.
  EXPECT_EQ(blocks.NumTokens(1), 6);
  EXPECT_EQ(blocks.BlockTable(1).size(), 2u);
  EXPECT_EQ(blocks.used_blocks(), 2);
}

TEST(BlockManagerTest, EvictsLeastRecentlyUsedCachedBlocks) {
  BlockManager blocks(4, 2);
  BlockCopies copies;
  ASSERT_TRUE(blocks.Allocate(1, Range(0, 4), &copies).ok());
  blocks.MarkComputed(1, 4);
  blocks.Free(1);
  EXPECT_EQ(blocks.cached_blocks(), 2);
  EXPECT_EQ(blocks.free_blocks(), 2);
  // Needs all four blocks: both cached ones are evicted.
  ASSERT_TRUE(blocks.CanAllocate(Range(100, 8)));
  ASSERT_TRUE(blocks.Allocate(2, Range(100, 8), &copies).ok());
  EXPECT_EQ(blocks.cached_blocks(), 0);
  blocks.Free(2);
  // The old prefix is gone.
  auto cached = blocks.Allocate(3, Range(0, 5), &copies);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(*cached, 0);
}

TEST(BlockManagerTest, WithoutPrefixCachingNothingIsShared) {
  BlockManager blocks(8, 4, /*prefix_caching=*/false);
  BlockCopies copies;
  ASSERT_TRUE(blocks.Allocate(1, Range(0, 8), &copies).ok());
  blocks.MarkComputed(1, 8);
  auto cached = blocks.Allocate(2, Range(0, 8), &copies);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(*cached, 0);
  EXPECT_EQ(blocks.used_blocks(), 4);
}

}  // namespace
}  // namespace tessera::serving
