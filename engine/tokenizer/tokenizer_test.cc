#include "engine/tokenizer/tokenizer.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/wordpiece.h"
#include "gtest/gtest.h"

namespace tessera::tokenizer {
namespace {

// ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 a=4 b=5
std::unique_ptr<Tokenizer> Toy() {
  auto tokenizer = WordPieceTokenizer::Create({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"}, {});
  EXPECT_TRUE(tokenizer.ok());
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

std::string Repeat(const char* word, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) text += std::string(i ? " " : "") + word;
  return text;
}

// Counts of first/second-segment tokens kept in an encoding.
std::pair<int, int> KeptCounts(const PairEncoding& encoding) {
  int first = 0;
  int second = 0;
  for (size_t i = 0; i < encoding.ids.size(); ++i) {
    if (encoding.ids[i] == 4) ++first;
    if (encoding.ids[i] == 5) ++second;
    EXPECT_EQ(encoding.token_type_ids[i], encoding.ids[i] == 5 ? 1 : encoding.token_type_ids[i]);
  }
  return {first, second};
}

TEST(TokenizerTest, EncodePairFollowsLongestFirst) {
  auto tokenizer = Toy();
  ASSERT_NE(tokenizer, nullptr);
  struct Case {
    int first, second, max_length, keep_first, keep_second;
  };
  // Expected lengths follow Hugging Face tokenizers' LongestFirst truncation.
  for (const Case& c : {Case{10, 10, 8, 2, 3}, Case{2, 10, 8, 2, 3}, Case{10, 1, 8, 4, 1},
                        Case{3, 3, 13, 3, 3}, Case{7, 6, 8, 3, 2}, Case{0, 5, 4, 0, 1}}) {
    absl::StatusOr<PairEncoding> encoding = tokenizer->EncodePair(
        Repeat("a", c.first), Repeat("b", c.second), c.max_length);
    ASSERT_TRUE(encoding.ok()) << encoding.status();
    EXPECT_EQ(KeptCounts(*encoding), std::make_pair(c.keep_first, c.keep_second))
        << c.first << "+" << c.second << " in " << c.max_length;
    EXPECT_LE(encoding->ids.size(), static_cast<size_t>(c.max_length));
    EXPECT_EQ(encoding->ids.front(), 2);
    EXPECT_EQ(encoding->ids.back(), 3);
    EXPECT_EQ(encoding->ids[c.keep_first + 1], 3);
    EXPECT_EQ(encoding->token_type_ids[c.keep_first + 1], 0);
    EXPECT_EQ(encoding->token_type_ids.back(), 1);
  }
}

TEST(TokenizerTest, EncodePairNeedsClsAndSep) {
  auto tokenizer = WordPieceTokenizer::Create({"[UNK]", "a"}, {});
  ASSERT_TRUE(tokenizer.ok());
  EXPECT_EQ((*tokenizer)->EncodePair("a", "a", 10).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(TokenizerTest, TokenDisplayTextShowsSpaceMarkersAsSpaces) {
  auto tokenizer = WordPieceTokenizer::Create(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "\xE2\x96\x81the", "\xC4\xA0" "cat", "##s"}, {});
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(TokenDisplayText(**tokenizer, 4), " the");
  EXPECT_EQ(TokenDisplayText(**tokenizer, 5), " cat");
  EXPECT_EQ(TokenDisplayText(**tokenizer, 6), "##s");
  EXPECT_EQ(TokenDisplayText(**tokenizer, 99), "");
}

}  // namespace
}  // namespace tessera::tokenizer
