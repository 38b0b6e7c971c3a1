#include "engine/tokenizer/sentencepiece_bpe.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "engine/tokenizer/test_shared_dir.h"
#include "gtest/gtest.h"
#include <nlohmann/json.hpp>

namespace tessera::tokenizer {
namespace {

// <unk> <s> </s>, the 256 byte pieces (ids 3..258), then `normal` pieces.
SentencePieceVocab ToyVocab(const std::vector<std::pair<std::string, float>>& normal) {
  SentencePieceVocab vocab;
  auto add = [&](std::string piece, float score, PieceType type) {
    vocab.pieces.push_back(std::move(piece));
    vocab.scores.push_back(score);
    vocab.types.push_back(type);
  };
  add("<unk>", 0, PieceType::kUnknown);
  add("<s>", 0, PieceType::kControl);
  add("</s>", 0, PieceType::kControl);
  for (int b = 0; b < 256; ++b) add(absl::StrFormat("<0x%02X>", b), 0, PieceType::kByte);
  for (const auto& [piece, score] : normal) add(piece, score, PieceType::kNormal);
  return vocab;
}

constexpr int32_t kFirstNormal = 259;

std::unique_ptr<SentencePieceBpeTokenizer> MakeToy(
    const std::vector<std::pair<std::string, float>>& normal) {
  auto tokenizer = SentencePieceBpeTokenizer::Create(ToyVocab(normal), SentencePieceOptions());
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

TEST(SentencePieceBpeTest, MergesFollowPieceScores) {
  // ids: ▁=259 a=260 b=261 c=262 ▁a=263 ab=264 abc=265
  const std::vector<std::pair<std::string, float>> base = {
      {"\xE2\x96\x81", -1}, {"a", -1}, {"b", -1}, {"c", -1}};
  auto prefer_space_a = base;
  prefer_space_a.insert(prefer_space_a.end(), {{"\xE2\x96\x81" "a", -2}, {"ab", -3}, {"abc", -4}});
  auto tokenizer = MakeToy(prefer_space_a);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(*tokenizer->Encode("abc", false),
            (std::vector<int32_t>{kFirstNormal + 4, kFirstNormal + 2, kFirstNormal + 3}));

  auto prefer_ab = base;
  prefer_ab.insert(prefer_ab.end(), {{"\xE2\x96\x81" "a", -3}, {"ab", -2}, {"abc", -4}});
  tokenizer = MakeToy(prefer_ab);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(*tokenizer->Encode("abc", false),
            (std::vector<int32_t>{kFirstNormal, kFirstNormal + 6}));
}

TEST(SentencePieceBpeTest, UnknownCharactersFallBackToBytes) {
  auto tokenizer = MakeToy({{"\xE2\x96\x81", -1}, {"a", -1}});
  ASSERT_NE(tokenizer, nullptr);
  // "é" is C3 A9; "\n" is 0A. The dummy prefix gives the leading ▁.
  const std::vector<int32_t> ids = *tokenizer->Encode("a\xC3\xA9\n", true);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, kFirstNormal, kFirstNormal + 1, 3 + 0xC3, 3 + 0xA9,
                                       3 + 0x0A}));
  EXPECT_EQ(*tokenizer->Decode(ids), "a\xC3\xA9\n");
  // A lone continuation byte decodes to U+FFFD rather than invalid UTF-8.
  EXPECT_EQ(*tokenizer->Decode({3 + 0xA9}), "\xEF\xBF\xBD");
}

TEST(SentencePieceBpeTest, WithoutByteFallbackUnknownCharactersAreUnk) {
  SentencePieceOptions options;
  options.byte_fallback = false;
  auto tokenizer = SentencePieceBpeTokenizer::Create(ToyVocab({{"a", -1}}), options);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(*(*tokenizer)->Encode("a", false), (std::vector<int32_t>{0, kFirstNormal}));
  EXPECT_EQ(*(*tokenizer)->Decode({0}), " \xE2\x81\x87 ");
}

TEST(SentencePieceBpeTest, SpecialIdsAndPieces) {
  auto tokenizer = MakeToy({{"a", -1}});
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->special_ids().unk, 0);
  EXPECT_EQ(tokenizer->special_ids().bos, 1);
  EXPECT_EQ(tokenizer->special_ids().eos, 2);
  EXPECT_EQ(tokenizer->special_ids().pad, -1);
  EXPECT_TRUE(tokenizer->IsSpecial(1));
  EXPECT_FALSE(tokenizer->IsSpecial(kFirstNormal));
  EXPECT_EQ(*tokenizer->IdToPiece(3 + 0x41), "<0x41>");
  EXPECT_EQ(tokenizer->PieceToId("a"), kFirstNormal);
  EXPECT_FALSE(tokenizer->PieceToId("zz").has_value());
  EXPECT_FALSE(tokenizer->IdToPiece(-1).ok());
  EXPECT_FALSE(tokenizer->Decode({1, 100000}).ok());
  EXPECT_TRUE(tokenizer->Encode("", true)->size() == 1);
  EXPECT_FALSE(tokenizer->Encode("bad \xFF utf8", false).ok());
}

TEST(SentencePieceBpeTest, RejectsInconsistentVocabularies) {
  SentencePieceVocab vocab = ToyVocab({{"a", -1}});
  vocab.scores.pop_back();
  EXPECT_FALSE(SentencePieceBpeTokenizer::Create(vocab, {}).ok());
  vocab = ToyVocab({{"a", -1}});
  vocab.types[5] = static_cast<PieceType>(9);
  EXPECT_FALSE(SentencePieceBpeTokenizer::Create(vocab, {}).ok());
  vocab = ToyVocab({{"a", -1}});
  vocab.pieces[5] = "<0xZZ>";
  EXPECT_FALSE(SentencePieceBpeTokenizer::Create(vocab, {}).ok());
  vocab = ToyVocab({{"", -1}});
  EXPECT_FALSE(SentencePieceBpeTokenizer::Create(vocab, {}).ok());
  vocab = ToyVocab({{"a", -1}});
  vocab.types[0] = PieceType::kNormal;  // No unknown piece left.
  EXPECT_FALSE(SentencePieceBpeTokenizer::Create(vocab, {}).ok());
  SentencePieceOptions options;
  options.bos_id = 100000;
  EXPECT_FALSE(SentencePieceBpeTokenizer::Create(ToyVocab({{"a", -1}}), options).ok());
}

TEST(SentencePieceBpeTest, LongInputEncodesAndRoundTrips) {
  auto tokenizer = MakeToy({{"\xE2\x96\x81", -1}, {"a", -1}, {"b", -1}, {"ab", -2},
                            {"\xE2\x96\x81" "ab", -3}, {"abab", -4}});
  ASSERT_NE(tokenizer, nullptr);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += (i % 7 == 0) ? "ab " : "abab";
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer->Encode(text, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_LT(ids->size(), text.size() / 2);
  EXPECT_EQ(*tokenizer->Decode(*ids), text);
}

struct FixtureCase {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<FixtureCase> LoadLlamaFixture() {
  absl::StatusOr<std::string> text =
      ReadFileToString(testing::TestDataPath("llama_fixture.json"), 1 << 20);
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<FixtureCase> cases;
  if (!text.ok()) return cases;
  const nlohmann::json fixture = nlohmann::json::parse(*text);
  for (const auto& c : fixture["cases"]) {
    cases.push_back({c["text"].get<std::string>(), c["ids"].get<std::vector<int32_t>>()});
  }
  return cases;
}

class LlamaReferenceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LlamaReferenceTest, MatchesSentencePieceLibrary) {
  const std::optional<std::string> path =
      testing::FindSharedFile(std::string("tokenizers/llama2/") + GetParam());
  if (!path) GTEST_SKIP() << "shared file tokenizers/llama2/" << GetParam() << " is absent";
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(*path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->kind(), TokenizerKind::kSentencePieceBpe);
  EXPECT_EQ((*tokenizer)->vocab_size(), 32000);
  const std::vector<FixtureCase> cases = LoadLlamaFixture();
  ASSERT_GE(cases.size(), 30u);
  for (const FixtureCase& c : cases) {
    absl::StatusOr<std::vector<int32_t>> ids = (*tokenizer)->Encode(c.text, false);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_EQ(*ids, c.ids) << "text: " << c.text;
    EXPECT_EQ(*(*tokenizer)->Decode(*ids), c.text);
    absl::StatusOr<std::vector<int32_t>> with_bos = (*tokenizer)->Encode(c.text, true);
    ASSERT_TRUE(with_bos.ok());
    ASSERT_FALSE(with_bos->empty());
    EXPECT_EQ(with_bos->front(), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(BothLoaders, LlamaReferenceTest,
                         ::testing::Values("tokenizer.model", "tokenizer.bin"));

TEST(LlamaVocabularyTest, ModelAndBinLoadersAgree) {
  const auto model_path = testing::FindSharedFile("tokenizers/llama2/tokenizer.model");
  const auto bin_path = testing::FindSharedFile("tokenizers/llama2/tokenizer.bin");
  if (!model_path || !bin_path) GTEST_SKIP() << "shared llama2 tokenizer files are absent";
  auto model = LoadTokenizer(*model_path);
  auto bin = LoadTokenizer(*bin_path);
  ASSERT_TRUE(model.ok() && bin.ok());
  ASSERT_EQ((*model)->vocab_size(), (*bin)->vocab_size());
  for (int32_t id = 0; id < (*model)->vocab_size(); ++id) {
    ASSERT_EQ(*(*model)->IdToPiece(id), *(*bin)->IdToPiece(id)) << "id " << id;
    ASSERT_EQ((*model)->IsSpecial(id), (*bin)->IsSpecial(id)) << "id " << id;
  }
  EXPECT_EQ((*model)->PieceToId("\xE2\x96\x81the"), (*bin)->PieceToId("\xE2\x96\x81the"));
  EXPECT_EQ((*model)->special_ids().eos, 2);
  EXPECT_EQ((*bin)->special_ids().eos, 2);
}

}  // namespace
}  // namespace tessera::tokenizer
