#include "ingest/chunk/fixed_token_chunker.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ingest/chunk/chunk_test_util.h"

namespace tessera::ingest {
namespace {

ParsedDocument Words(int count) {
  ParsedDocument doc;
  for (int i = 0; i < count; ++i) absl::StrAppend(&doc.text, i == 0 ? "" : " ", "w", i);
  return doc;
}

TEST(FixedTokenChunkerTest, WindowsWithOverlap) {
  const ParsedDocument doc = Words(25);
  FixedTokenChunker chunker(10, 3, DefaultTokenCounter());
  auto chunks = chunker.Chunk(doc);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  // Stride 7: windows start at tokens 0, 7, 14, 21.
  ASSERT_EQ(chunks->size(), 4u);
  EXPECT_EQ((*chunks)[0].text(), "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9");
  EXPECT_EQ((*chunks)[1].text(), "w7 w8 w9 w10 w11 w12 w13 w14 w15 w16");
  EXPECT_EQ((*chunks)[3].text(), "w21 w22 w23 w24");
  EXPECT_EQ((*chunks)[3].token_count(), 4);
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 10);
}

TEST(FixedTokenChunkerTest, ExactMultipleHasNoTrailingOverlapOnlyChunk) {
  const ParsedDocument doc = Words(20);
  auto chunks = FixedTokenChunker(10, 0, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[1].text(), "w10 w11 w12 w13 w14 w15 w16 w17 w18 w19");
  auto overlapping = FixedTokenChunker(10, 5, DefaultTokenCounter()).Chunk(Words(10));
  ASSERT_TRUE(overlapping.ok());
  EXPECT_EQ(overlapping->size(), 1u);
}

TEST(FixedTokenChunkerTest, SectionAndPageAtChunkStart) {
  ParsedDocument doc;
  doc.text = "aa bb cc dd ee ff";  // tokens at 0,3,6,9,12,15
  doc.sections.push_back({{"S1"}, {6, 17}});
  doc.pages.push_back({1, {0, 9}});
  doc.pages.push_back({2, {9, 17}});
  auto chunks = FixedTokenChunker(3, 0, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[0].section_path_size(), 0);
  EXPECT_EQ((*chunks)[0].page(), 1);
  EXPECT_EQ((*chunks)[1].section_path(0), "S1");
  EXPECT_EQ((*chunks)[1].page(), 2);
}

TEST(FixedTokenChunkerTest, MultibyteTextAndSliceBoundaries) {
  // Long enough to cross the 64 KiB tokenization slices, in three scripts.
  ParsedDocument doc;
  for (int i = 0; i < 20000; ++i) {
    doc.text += i % 3 == 0 ? "\xE4\xB8\xAD\xE6\x96\x87 " : i % 3 == 1 ? "\xD0\xBC\xD0\xB8\xD1\x80 " : "\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85\n";
  }
  auto chunks = FixedTokenChunker(64, 8, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 64);
  // 6667 x 2 CJK tokens + 6667 Cyrillic + 6666 Arabic words = 26667 tokens; windows
  // start every 56 tokens until one reaches the end.
  EXPECT_EQ(chunks->size(), (26667u - 8 + 55) / 56);
}

TEST(FixedTokenChunkerTest, EmptyAndBadStructure) {
  auto empty = FixedTokenChunker(10, 2, DefaultTokenCounter()).Chunk(ParsedDocument());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  ParsedDocument bad;
  bad.text = "abc";
  bad.paragraphs.push_back({0, 10});
  EXPECT_EQ(FixedTokenChunker(10, 2, DefaultTokenCounter()).Chunk(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::ingest
