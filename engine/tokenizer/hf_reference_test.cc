// Our tokenizers against ids recorded from the Hugging Face `tokenizers` library
// (tools/hf_tokenizer_fixture.mjs; see testdata/README.md): all-MiniLM-L6-v2's
// WordPiece through both of its files, and a byte-level BPE trained by the
// library itself.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "engine/tokenizer/test_shared_dir.h"
#include "engine/tokenizer/tokenizer.h"
#include "gtest/gtest.h"

namespace tessera::tokenizer {
namespace {

// One recorded input: a single text (ids without and with special tokens, and
// what the library decodes the latter to) or a (text, pair) input as a
// cross-encoder sees it (ids with special tokens, truncated to max_length).
struct ReferenceCase {
  std::string text;
  std::optional<std::string> pair;
  std::optional<int> max_length;
  std::vector<int32_t> ids;
  std::vector<int32_t> ids_with_special_tokens;
  std::vector<int32_t> type_ids;
  std::optional<std::string> decoded;
};

std::vector<ReferenceCase> LoadReferenceCases(const std::string& fixture_name) {
  std::vector<ReferenceCase> cases;
  absl::StatusOr<std::string> text =
      ReadFileToString(testing::TestDataPath(fixture_name), 1 << 22);
  EXPECT_TRUE(text.ok()) << text.status();
  if (!text.ok()) return cases;
  const nlohmann::json fixture = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(fixture.is_object() && fixture.contains("cases")) << fixture_name << " is malformed";
  if (!fixture.is_object() || !fixture.contains("cases")) return cases;
  for (const nlohmann::json& c : fixture["cases"]) {
    ReferenceCase reference;
    reference.text = c.at("text").get<std::string>();
    reference.ids = c.at("ids").get<std::vector<int32_t>>();
    if (c.contains("pair")) reference.pair = c["pair"].get<std::string>();
    if (c.contains("max_length")) reference.max_length = c["max_length"].get<int>();
    if (c.contains("ids_with_special_tokens")) {
      reference.ids_with_special_tokens = c["ids_with_special_tokens"].get<std::vector<int32_t>>();
    }
    if (c.contains("type_ids")) reference.type_ids = c["type_ids"].get<std::vector<int32_t>>();
    if (c.contains("decoded")) reference.decoded = c["decoded"].get<std::string>();
    cases.push_back(std::move(reference));
  }
  return cases;
}

std::string Describe(const ReferenceCase& c) {
  std::string description = "text \"" + absl::CEscape(c.text) + "\"";
  if (c.pair) description += ", pair \"" + absl::CEscape(*c.pair) + "\"";
  return description;
}

// Checks every case; returns how many were single texts and how many pairs.
std::pair<int, int> ExpectMatchesReference(const Tokenizer& tokenizer,
                                           const std::vector<ReferenceCase>& cases) {
  int singles = 0;
  int pairs = 0;
  for (const ReferenceCase& c : cases) {
    SCOPED_TRACE(Describe(c));
    if (c.pair) {
      ++pairs;
      // The library was told no truncation unless the case has max_length.
      absl::StatusOr<PairEncoding> encoding =
          tokenizer.EncodePair(c.text, *c.pair, c.max_length.value_or(1 << 20));
      if (!encoding.ok()) {
        ADD_FAILURE() << encoding.status();
        continue;
      }
      EXPECT_EQ(encoding->ids, c.ids);
      EXPECT_EQ(encoding->token_type_ids, c.type_ids);
      continue;
    }
    ++singles;
    absl::StatusOr<std::vector<int32_t>> ids = tokenizer.Encode(c.text, false);
    if (!ids.ok()) {
      ADD_FAILURE() << ids.status();
      continue;
    }
    EXPECT_EQ(*ids, c.ids);
    absl::StatusOr<std::vector<int32_t>> wrapped = tokenizer.Encode(c.text, true);
    if (!wrapped.ok()) {
      ADD_FAILURE() << wrapped.status();
      continue;
    }
    EXPECT_EQ(*wrapped, c.ids_with_special_tokens);
    if (c.decoded) {
      absl::StatusOr<std::string> decoded = tokenizer.Decode(c.ids_with_special_tokens);
      if (!decoded.ok()) {
        ADD_FAILURE() << decoded.status();
        continue;
      }
      EXPECT_EQ(*decoded, *c.decoded) << "decoded \"" << absl::CEscape(*decoded) << "\"";
    }
  }
  return {singles, pairs};
}

TEST(HfByteLevelBpeReferenceTest, MatchesTokenizersLibrary) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      LoadTokenizer(testing::TestDataPath("hf_byte_level_bpe.tokenizer.json"));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->kind(), TokenizerKind::kByteLevelBpe);
  EXPECT_EQ((*tokenizer)->vocab_size(), 977);
  const std::vector<ReferenceCase> cases = LoadReferenceCases("hf_byte_level_bpe_fixture.json");
  const auto [singles, pairs] = ExpectMatchesReference(**tokenizer, cases);
  EXPECT_GE(singles, 30);
  EXPECT_EQ(pairs, 0);
}

// The same fixture through vocab.txt (+ tokenizer_config.json) and through
// tokenizer.json: both loaders must give the library's ids.
class HfMiniLmReferenceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HfMiniLmReferenceTest, MatchesTokenizersLibrary) {
  const std::string relative = std::string("models/all-MiniLM-L6-v2/") + GetParam();
  const std::optional<std::string> path = testing::FindSharedFile(relative);
  if (!path) GTEST_SKIP() << "shared file " << relative << " is absent (set TESSERA_SHARED_DIR)";
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(*path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->kind(), TokenizerKind::kWordPiece);
  const std::vector<ReferenceCase> cases = LoadReferenceCases("hf_minilm_fixture.json");
  const auto [singles, pairs] = ExpectMatchesReference(**tokenizer, cases);
  EXPECT_GE(singles, 35);
  EXPECT_GE(pairs, 5);
}

INSTANTIATE_TEST_SUITE_P(BothFiles, HfMiniLmReferenceTest,
                         ::testing::Values("vocab.txt", "tokenizer.json"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "vocab.txt" ? "VocabTxt"
                                                                         : "TokenizerJson";
                         });

}  // namespace
}  // namespace tessera::tokenizer
