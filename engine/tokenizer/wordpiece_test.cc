#include "engine/tokenizer/wordpiece.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/load_tokenizer.h"
#include "engine/tokenizer/test_shared_dir.h"
#include "gtest/gtest.h"
#include <nlohmann/json.hpp>

namespace tessera::tokenizer {
namespace {

std::unique_ptr<WordPieceTokenizer> MakeToy(WordPieceOptions options = {}) {
  // ids:         0       1       2       3        4       5      6     7      8       9      10
  auto tokenizer = WordPieceTokenizer::Create(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "cafe", ",", "\xE4\xB8\xAD",
       "##s", "hello"},
      options);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

TEST(WordPieceTest, GreedyLongestMatchWithContinuations) {
  auto tokenizer = MakeToy();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(*tokenizer->Encode("unaffable", false), (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(*tokenizer->Encode("unaffable", true), (std::vector<int32_t>{2, 5, 6, 7, 3}));
  // A word with an unmatched remainder is a single [UNK].
  EXPECT_EQ(*tokenizer->Encode("unaffablex hello", false), (std::vector<int32_t>{1, 12}));
}

TEST(WordPieceTest, BasicTokenizerNormalises) {
  auto tokenizer = MakeToy();
  ASSERT_NE(tokenizer, nullptr);
  // Lower-casing, accent stripping, punctuation split, control removal, CJK split.
  EXPECT_EQ(tokenizer->BasicTokenize("H\xC3\x89LLO,Caf\xC3\xA9\x01\xE4\xB8\xAD\xE4\xB8\xAD"),
            (std::vector<std::string>{"hello", ",", "cafe", "\xE4\xB8\xAD", "\xE4\xB8\xAD"}));
  EXPECT_EQ(tokenizer->BasicTokenize("  a\tb\nc\xE3\x80\x80" "d  "),
            (std::vector<std::string>{"a", "b", "c", "d"}));
  // Greek capital sigma lower-cases to "σ" even at a word's end (the Hugging Face
  // library lower-cases character by character; Python's str.lower() gives "ς").
  EXPECT_EQ(tokenizer->BasicTokenize("\xCE\x9F\xCE\xA3"), (std::vector<std::string>{"\xCE\xBF\xCF\x83"}));
  // U+2B820..U+2B91F are not split off (the library's CJK table); U+2B81F is, and
  // being unassigned it is kept (the library drops only Cc, Cf, Co and Cs).
  EXPECT_EQ(tokenizer->BasicTokenize("x\xF0\xAB\xA0\xA0y x\xF0\xAB\xA0\x9Fy"),
            (std::vector<std::string>{"x\xF0\xAB\xA0\xA0y", "x", "\xF0\xAB\xA0\x9F", "y"}));
}

TEST(WordPieceTest, SpecialTokensInTextMatchVerbatim) {
  auto tokenizer = MakeToy();
  ASSERT_NE(tokenizer, nullptr);
  // As the library's added tokens: matched before normalisation, so "[cls]" is text.
  EXPECT_EQ(*tokenizer->Encode("hello[SEP]un [MASK][cls]", false),
            (std::vector<int32_t>{12, 3, 5, 4, 1, 1, 1}));
  WordPieceOptions none;
  none.added_tokens.emplace();
  auto plain = MakeToy(none);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(*plain->Encode("[SEP]", false), (std::vector<int32_t>{1, 1, 1}));
}

TEST(WordPieceTest, CasedOptionsKeepCaseAndAccents) {
  WordPieceOptions options;
  options.do_lower_case = false;
  auto tokenizer = MakeToy(options);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->BasicTokenize("Caf\xC3\xA9"), (std::vector<std::string>{"Caf\xC3\xA9"}));
}

TEST(WordPieceTest, OverlongWordIsUnknown) {
  auto tokenizer = MakeToy();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(*tokenizer->Encode(std::string(101, 'a'), false), (std::vector<int32_t>{1}));
}

TEST(WordPieceTest, DecodeJoinsPiecesAndCleansUp) {
  auto tokenizer = MakeToy();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(*tokenizer->Decode({2, 5, 6, 7, 9, 12, 11, 3}), "unaffable, hellos");
  // [UNK] is skipped like the other special tokens.
  EXPECT_EQ(*tokenizer->Decode({1, 12, 1, 8}), "hello cafe");
  EXPECT_FALSE(tokenizer->Decode({99}).ok());
}

TEST(WordPieceTest, RejectsBadInput) {
  EXPECT_FALSE(WordPieceTokenizer::Create({}, {}).ok());
  EXPECT_FALSE(WordPieceTokenizer::Create({"a", "a", "[UNK]"}, {}).ok());
  EXPECT_FALSE(WordPieceTokenizer::Create({"a", "b"}, {}).ok());  // No [UNK].
  auto tokenizer = MakeToy();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->Encode("\xC3", false).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WordPieceTest, PairEncodingTruncatesLongestFirst) {
  auto tokenizer = MakeToy();
  ASSERT_NE(tokenizer, nullptr);
  // first: 6 tokens (hello x6), second: 2 tokens (cafe cafe); budget 8 - 3 = 5.
  absl::StatusOr<PairEncoding> pair =
      tokenizer->EncodePair("hello hello hello hello hello hello", "cafe cafe", 8);
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ(pair->ids, (std::vector<int32_t>{2, 12, 12, 12, 3, 8, 8, 3}));
  EXPECT_EQ(pair->token_type_ids, (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_FALSE(tokenizer->EncodePair("a", "b", 2).ok());
}

struct FixtureCase {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<FixtureCase> LoadFixture() {
  absl::StatusOr<std::string> text =
      ReadFileToString(testing::TestDataPath("wordpiece_fixture.json"), 1 << 20);
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<FixtureCase> cases;
  if (!text.ok()) return cases;
  const nlohmann::json fixture = nlohmann::json::parse(*text);
  for (const auto& c : fixture["cases"]) {
    cases.push_back({c["text"].get<std::string>(), c["ids"].get<std::vector<int32_t>>()});
  }
  return cases;
}

class MiniLmReferenceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(MiniLmReferenceTest, MatchesReferenceBertTokenizer) {
  const auto path =
      testing::FindSharedFile(std::string("models/all-MiniLM-L6-v2/") + GetParam());
  if (!path) GTEST_SKIP() << "shared file models/all-MiniLM-L6-v2/" << GetParam() << " is absent";
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(*path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->kind(), TokenizerKind::kWordPiece);
  EXPECT_EQ((*tokenizer)->vocab_size(), 30522);
  const SpecialTokenIds& special = (*tokenizer)->special_ids();
  EXPECT_EQ(special.pad, 0);
  EXPECT_EQ(special.unk, 100);
  EXPECT_EQ(special.cls, 101);
  EXPECT_EQ(special.sep, 102);
  EXPECT_EQ(special.mask, 103);
  const std::vector<FixtureCase> cases = LoadFixture();
  ASSERT_GE(cases.size(), 15u);
  for (const FixtureCase& c : cases) {
    absl::StatusOr<std::vector<int32_t>> ids = (*tokenizer)->Encode(c.text, false);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_EQ(*ids, c.ids) << "text: " << c.text;
    absl::StatusOr<std::vector<int32_t>> wrapped = (*tokenizer)->Encode(c.text, true);
    ASSERT_TRUE(wrapped.ok());
    EXPECT_EQ(wrapped->front(), 101);
    EXPECT_EQ(wrapped->back(), 102);
  }
  absl::StatusOr<std::vector<int32_t>> ids = (*tokenizer)->Encode("Hello, World! It's fine.", false);
  ASSERT_TRUE(ids.ok());
  // The library cleans up piece by piece: " ," and " !" glue, " ' s" does not.
  EXPECT_EQ(*(*tokenizer)->Decode(*ids), "hello, world! it ' s fine.");
}

INSTANTIATE_TEST_SUITE_P(BothLoaders, MiniLmReferenceTest,
                         ::testing::Values("vocab.txt", "tokenizer.json"));

}  // namespace
}  // namespace tessera::tokenizer
