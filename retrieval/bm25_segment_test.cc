#include "retrieval/bm25_segment.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::retrieval::bm25 {
namespace {

std::vector<std::string> Words(absl::string_view text) {
  std::vector<std::string> words;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find(' ', start);
    if (end == absl::string_view::npos) end = text.size();
    if (end > start) words.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

std::vector<uint32_t> Docs(const PostingsView& view) {
  return std::vector<uint32_t>(view.docs, view.docs + view.size);
}

std::vector<uint32_t> Tfs(const PostingsView& view) {
  return std::vector<uint32_t>(view.tfs, view.tfs + view.size);
}

TEST(MutableSegmentTest, BuildsPostingsAndBlockSummaries) {
  MutableSegment segment;
  EXPECT_EQ(segment.AddDocument("a", Words("x y x")), 0u);
  EXPECT_EQ(segment.AddDocument("b", Words("y")), 1u);
  EXPECT_EQ(segment.AddDocument("c", Words("x x x z z")), 2u);
  EXPECT_EQ(segment.total_length(), 9u);
  EXPECT_EQ(segment.external_id(1), "b");

  PostingsView x;
  ASSERT_TRUE(segment.Find("x", &x));
  EXPECT_THAT(Docs(x), testing::ElementsAre(0, 2));
  EXPECT_THAT(Tfs(x), testing::ElementsAre(2, 3));
  ASSERT_EQ(x.num_blocks, 1u);
  EXPECT_EQ(x.blocks[0].last_doc, 2u);
  EXPECT_EQ(x.blocks[0].max_tf, 3u);
  EXPECT_EQ(x.blocks[0].min_length, 3u);
  PostingsView missing;
  EXPECT_FALSE(segment.Find("w", &missing));
}

TEST(MutableSegmentTest, StartsNewBlockEveryBlockSize) {
  MutableSegment segment;
  for (uint32_t d = 0; d < 2 * kBlockSize + 5; ++d) {
    std::vector<std::string> terms(1 + d % 3, "t");
    terms.push_back("pad");
    segment.AddDocument("id" + std::to_string(d), terms);
  }
  PostingsView t;
  ASSERT_TRUE(segment.Find("t", &t));
  ASSERT_EQ(t.num_blocks, 3u);
  EXPECT_EQ(t.blocks[0].last_doc, kBlockSize - 1);
  EXPECT_EQ(t.blocks[2].last_doc, 2 * kBlockSize + 4);
  EXPECT_EQ(t.blocks[1].max_tf, 3u);
  EXPECT_EQ(t.blocks[1].min_length, 2u);
}

TEST(FrozenSegmentTest, FreezeKeepsEverything) {
  MutableSegment segment;
  segment.AddDocument("a", Words("x y x"));
  segment.AddDocument("b", Words("y"));
  segment.AddDocument("c", Words("x x x z z"));
  auto frozen = FrozenSegment::Freeze(segment);
  ASSERT_TRUE(frozen.ok()) << frozen.status();
  EXPECT_EQ((*frozen)->doc_count(), 3u);
  EXPECT_EQ((*frozen)->term_count(), 3u);
  EXPECT_EQ((*frozen)->term(0), "x");
  EXPECT_EQ((*frozen)->external_id(2), "c");
  EXPECT_EQ((*frozen)->total_length(), 9u);
  PostingsView y;
  ASSERT_TRUE((*frozen)->Find("y", &y));
  EXPECT_THAT(Docs(y), testing::ElementsAre(0, 1));
  PostingsView missing;
  EXPECT_FALSE((*frozen)->Find("a", &missing));
  EXPECT_FALSE((*frozen)->Find("zz", &missing));
}

// Rewrites the header checksum so that structural validation, not the
// checksum, has to catch the damage.
void FixChecksum(std::string* image) {
  constexpr size_t kCrcOffset = 28;
  constexpr size_t kHeaderBytes = 80;
  std::memset(image->data() + kCrcOffset, 0, 4);
  uLong crc = crc32_z(0, reinterpret_cast<const Bytef*>(image->data()), kHeaderBytes);
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(image->data() + kHeaderBytes),
                image->size() - kHeaderBytes);
  const auto value = static_cast<uint32_t>(crc);
  std::memcpy(image->data() + kCrcOffset, &value, 4);
}

TEST(FrozenSegmentTest, StructuralDamageWithValidChecksumIsRejected) {
  MutableSegment segment;
  for (int d = 0; d < 40; ++d) {
    segment.AddDocument("doc" + std::to_string(d),
                        Words(d % 2 ? "alpha beta beta gamma" : "beta delta delta"));
  }
  auto frozen = FrozenSegment::Freeze(segment);
  ASSERT_TRUE(frozen.ok());
  const std::string path = std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR")
                                                                   : "/tmp") +
                           "/segment_fuzz.bm25";
  ASSERT_TRUE((*frozen)->WriteFile(path).ok());
  std::ifstream in(path, std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(FrozenSegment::OpenFile(path).ok());

  // Overwrite each 4-byte word after the header with values that break
  // offsets, ids and counts; padding words may legitimately change.
  int rejected = 0;
  int accepted = 0;
  for (size_t pos = 80; pos + 4 <= original.size(); pos += 4) {
    for (uint32_t value : {0u, 1u, 0xFFFFFFFFu, 41u}) {
      std::string damaged = original;
      uint32_t before;
      std::memcpy(&before, damaged.data() + pos, 4);
      if (before == value) continue;
      std::memcpy(damaged.data() + pos, &value, 4);
      FixChecksum(&damaged);
      std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
      auto reopened = FrozenSegment::OpenFile(path);
      if (reopened.ok()) {
        ++accepted;
        // Whatever was accepted must still be safe to read.
        for (uint32_t t = 0; t < (*reopened)->term_count(); ++t) {
          const PostingsView view = (*reopened)->postings(t);
          for (uint32_t i = 0; i < view.size; ++i) {
            ASSERT_LT(view.docs[i], (*reopened)->doc_count());
          }
        }
      } else {
        EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 100);
  // Only padding and id bytes can change without breaking an invariant.
  EXPECT_LT(accepted, rejected / 4);
  std::filesystem::remove(path);
}

TEST(FrozenSegmentTest, MissingFileIsNotFound) {
  EXPECT_EQ(FrozenSegment::OpenFile("/nonexistent/segment.bm25").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::retrieval::bm25
