#include "engine/tokenizer/byte_level_bpe.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/unicode_text.h"
#include "gtest/gtest.h"

namespace tessera::tokenizer {
namespace {

std::string JsonEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// A GPT-2-shaped tokenizer.json: ids 0..255 are the byte pieces in byte order,
// then the merge results, then <|endoftext|>.
std::string TinyTokenizerJson(bool add_prefix_space = false) {
  std::vector<std::string> vocab;
  for (int b = 0; b < 256; ++b) {
    std::string piece;
    AppendUtf8(ByteToUnicode(static_cast<uint8_t>(b)), &piece);
    vocab.push_back(piece);
  }
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"}, {"\xC4\xA0", "t"}, {"\xC4\xA0t", "he"}, {"l", "l"}, {"ll", "o"}};
  for (const auto& [left, right] : merges) vocab.push_back(left + right);
  std::string json = "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":261,\"content\":\"<|endoftext|>\","
                     "\"special\":true}],\"normalizer\":null,";
  absl::StrAppend(&json, "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":",
                  add_prefix_space ? "true" : "false", ",\"trim_offsets\":true,\"use_regex\":true},");
  absl::StrAppend(&json, "\"post_processor\":{\"type\":\"ByteLevel\"},\"decoder\":{\"type\":\"ByteLevel\"},");
  absl::StrAppend(&json, "\"model\":{\"type\":\"BPE\",\"vocab\":{");
  for (size_t i = 0; i < vocab.size(); ++i) {
    absl::StrAppend(&json, i ? "," : "", "\"", JsonEscape(vocab[i]), "\":", i);
  }
  absl::StrAppend(&json, ",\"<|endoftext|>\":261},\"merges\":[");
  for (size_t i = 0; i < merges.size(); ++i) {
    // Mix both merge spellings that tokenizer.json files use.
    if (i % 2 == 0) {
      absl::StrAppend(&json, i ? "," : "", "\"", merges[i].first, " ", merges[i].second, "\"");
    } else {
      absl::StrAppend(&json, ",[\"", merges[i].first, "\",\"", merges[i].second, "\"]");
    }
  }
  absl::StrAppend(&json, "]}}");
  return json;
}

std::unique_ptr<Tokenizer> LoadTiny(bool add_prefix_space = false) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      LoadTokenizerJson(TinyTokenizerJson(add_prefix_space));
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

TEST(ByteLevelBpeTest, ByteToUnicodeTable) {
  EXPECT_EQ(ByteToUnicode('A'), U'A');
  EXPECT_EQ(ByteToUnicode(' '), U'\u0120');   // Ġ
  EXPECT_EQ(ByteToUnicode('\n'), U'\u010A');  // Ċ
  EXPECT_EQ(ByteToUnicode(0), U'\u0100');
  EXPECT_EQ(ByteToUnicode(0xAD), U'\u0143');
  EXPECT_EQ(ByteToUnicode(0xFF), U'\u00FF');
}

TEST(ByteLevelBpeTest, PreTokenizesLikeGpt2) {
  auto tokenizer = LoadTiny();
  ASSERT_NE(tokenizer, nullptr);
  auto* bpe = dynamic_cast<ByteLevelBpeTokenizer*>(tokenizer.get());
  ASSERT_NE(bpe, nullptr);
  const std::vector<absl::string_view> words = bpe->PreTokenize("Hello  world's 123!!\n\nok  ");
  EXPECT_EQ(words, (std::vector<absl::string_view>{"Hello", " ", " world", "'s", " 123", "!!",
                                                   "\n", "\n", "ok", "  "}));
  EXPECT_EQ(bpe->PreTokenize("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87"),
            (std::vector<absl::string_view>{"caf\xC3\xA9", " \xE4\xB8\xAD\xE6\x96\x87"}));
}

TEST(ByteLevelBpeTest, MergesByRank) {
  auto tokenizer = LoadTiny();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->kind(), TokenizerKind::kByteLevelBpe);
  // "the" -> t + he (no "t he" merge); " the" -> Ġthe; " hello" -> Ġ (id 32, the
  // byte ' ') + he + llo, as there is no "Ġ he" merge.
  EXPECT_EQ(*tokenizer->Encode("the the hello", false),
            (std::vector<int32_t>{'t', 256, 258, ' ', 256, 260}));
  EXPECT_EQ(*tokenizer->Decode({'t', 256, 258, ' ', 256, 260}), "the the hello");
  EXPECT_EQ(*tokenizer->IdToPiece(258), "\xC4\xA0the");
  EXPECT_EQ(tokenizer->PieceToId("llo"), 260);
}

TEST(ByteLevelBpeTest, AddedTokensAndArbitraryBytes) {
  auto tokenizer = LoadTiny();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(*tokenizer->Encode("hi<|endoftext|>he", false),
            (std::vector<int32_t>{'h', 'i', 261, 256}));
  EXPECT_TRUE(tokenizer->IsSpecial(261));
  EXPECT_EQ(*tokenizer->Decode({'h', 'i', 261, 256}), "hihe");
  const std::string text = "Emoji \xF0\x9F\x98\x80, tabs\t\tand\r\nnew lines, \xC3\xA9t\xC3\xA9";
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer->Encode(text, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*tokenizer->Decode(*ids), text);
  EXPECT_FALSE(tokenizer->Encode("\xF0\x9F", false).ok());
  EXPECT_FALSE(tokenizer->Decode({262}).ok());
  // Half of a multi-byte character decodes to U+FFFD, not invalid UTF-8.
  EXPECT_EQ(*tokenizer->Decode({0xF0}), "\xEF\xBF\xBD");
}

TEST(ByteLevelBpeTest, AddPrefixSpace) {
  auto tokenizer = LoadTiny(/*add_prefix_space=*/true);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(*tokenizer->Encode("the", false), (std::vector<int32_t>{258}));
}

TEST(ByteLevelBpeTest, RejectsBrokenFiles) {
  EXPECT_FALSE(LoadTokenizerJson("{").ok());
  EXPECT_FALSE(LoadTokenizerJson("[]").ok());
  EXPECT_FALSE(LoadTokenizerJson("{\"model\":{\"type\":\"BPE\",\"vocab\":[1,2]}}").ok());
  EXPECT_FALSE(LoadTokenizerJson("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-4}}}").ok());
  EXPECT_FALSE(LoadTokenizerJson(
      "{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\","
      "\"vocab\":{\"a\":0},\"merges\":[\"a b\"]}}").ok());
  EXPECT_EQ(LoadTokenizerJson("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}").status().code(),
            absl::StatusCode::kUnimplemented);
  // Truncations of a valid file never crash.
  const std::string json = TinyTokenizerJson();
  for (size_t length = 0; length < json.size(); length += 97) {
    EXPECT_FALSE(LoadTokenizerJson(json.substr(0, length)).ok());
  }
}

TEST(ByteLevelBpeTest, LoadTokenizerReadsJsonFile) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/tiny_tokenizer.json");
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  const std::string json = TinyTokenizerJson();
  std::fwrite(json.data(), 1, json.size(), file);
  std::fclose(file);
  absl::StatusOr<std::string> ids = TokenizeToString(path, " the hello");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, "258 32 256 260");
}

}  // namespace
}  // namespace tessera::tokenizer
