#include "ingest/chunk/token_counter.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

std::vector<std::string> Tokens(absl::string_view text) {
  std::vector<TokenSpan> spans;
  DefaultTokenCounter().Tokenize(text, &spans);
  std::vector<std::string> out;
  for (const TokenSpan& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

TEST(ApproximateTokenCounterTest, WordsAndPunctuation) {
  EXPECT_EQ(Tokens("Hello, world! It's 2024."),
            (std::vector<std::string>{"Hello", ",", "world", "!", "It", "'", "s", "2024", "."}));
  EXPECT_EQ(DefaultTokenCounter().Count("  \n\t "), 0);
  EXPECT_EQ(DefaultTokenCounter().Count(""), 0);
}

TEST(ApproximateTokenCounterTest, LongWordsBecomePiecesOfEightCodePoints) {
  EXPECT_EQ(Tokens("internationalization"),
            (std::vector<std::string>{"internat", "ionaliza", "tion"}));
  EXPECT_EQ(DefaultTokenCounter().Count("abcdefgh"), 1);
  EXPECT_EQ(DefaultTokenCounter().Count("abcdefghi"), 2);
}

TEST(ApproximateTokenCounterTest, MixedScriptsAndEmoji) {
  // CJK: one token per character; punctuation separate.
  EXPECT_EQ(Tokens("\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x81\xAF\xE3\x80\x82"),
            (std::vector<std::string>{"\xE6\x9D\xB1", "\xE4\xBA\xAC", "\xE3\x81\xAF",
                                      "\xE3\x80\x82"}));
  // Arabic and Cyrillic words behave like Latin ones.
  EXPECT_EQ(DefaultTokenCounter().Count("\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 "
                                        "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"),
            2);
  // Emoji are symbols: one token each; a variation selector stays with its emoji;
  // a zero-width joiner is no token.
  EXPECT_EQ(Tokens("ok\xF0\x9F\x98\x80\xE2\x9D\xA4\xEF\xB8\x8F"),
            (std::vector<std::string>{"ok", "\xF0\x9F\x98\x80", "\xE2\x9D\xA4\xEF\xB8\x8F"}));
  EXPECT_EQ(DefaultTokenCounter().Count("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"), 2);
  // Combining marks stay inside their word; no-break space separates.
  EXPECT_EQ(Tokens("cafe\xCC\x81\xC2\xA0ok"), (std::vector<std::string>{"cafe\xCC\x81", "ok"}));
}

TEST(ApproximateTokenCounterTest, CountMatchesTokenize) {
  const std::string text = "Mixed: abc\xE4\xB8\xAD\xE6\x96\x87 d\xC3\xA9j\xC3\xA0-vu, 3.14 \xF0\x9F\x91\x8D";
  std::vector<TokenSpan> spans;
  DefaultTokenCounter().Tokenize(text, &spans);
  EXPECT_EQ(DefaultTokenCounter().Count(text), static_cast<int64_t>(spans.size()));
  for (size_t i = 1; i < spans.size(); ++i) EXPECT_LE(spans[i - 1].end, spans[i].begin);
}

// The interface can be implemented by a real tokenizer; Count defaults to Tokenize.
class EveryByteCounter : public TokenCounter {
 public:
  void Tokenize(absl::string_view text, std::vector<TokenSpan>* tokens) const override {
    for (size_t i = 0; i < text.size(); ++i) {
      tokens->push_back({static_cast<int64_t>(i), static_cast<int64_t>(i + 1)});
    }
  }
};

TEST(TokenCounterTest, DefaultCountUsesTokenize) {
  EXPECT_EQ(EveryByteCounter().Count("abcd"), 4);
}

}  // namespace
}  // namespace tessera::ingest
