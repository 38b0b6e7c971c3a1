#include "retrieval/analyzer.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::retrieval {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::unique_ptr<Analyzer> MakeAnalyzer(AnalyzerOptions options = {}) {
  auto analyzer = Analyzer::Create(std::move(options));
  EXPECT_TRUE(analyzer.ok()) << analyzer.status();
  return std::move(analyzer).value();
}

TEST(AnalyzerTest, FoldsStopsAndStems) {
  auto analyzer = MakeAnalyzer();
  EXPECT_THAT(analyzer->Analyze("The Running of the CATS is not connected"),
              ElementsAre("run", "cat", "connect"));
}

TEST(AnalyzerTest, SplitsOnNonLetterOrNumber) {
  AnalyzerOptions options;
  options.language = "none";
  options.remove_stop_words = false;
  auto analyzer = MakeAnalyzer(options);
  EXPECT_THAT(analyzer->Analyze("IL-6/TNF-alpha, 0.5mg; x2"),
              ElementsAre("il", "6", "tnf", "alpha", "0", "5mg", "x2"));
}

TEST(AnalyzerTest, ApostropheInsideWordReachesStemmer) {
  auto analyzer = MakeAnalyzer();
  // The English stemmer removes the possessive; a trailing quote is a separator.
  EXPECT_THAT(analyzer->Analyze("patient's patients' \xE2\x80\x98quoted\xE2\x80\x99"),
              ElementsAre("patient", "patient", "quot"));
  // U+2019 between letters behaves like an ASCII apostrophe.
  EXPECT_THAT(analyzer->Analyze("doctor\xE2\x80\x99s"), ElementsAre("doctor"));
}

TEST(AnalyzerTest, UnicodeCaseFoldingAndLetters) {
  AnalyzerOptions options;
  options.language = "none";
  auto analyzer = MakeAnalyzer(options);
  // German sharp s folds to "ss"; Greek capitals fold; CJK letters are letters.
  EXPECT_THAT(analyzer->Analyze("STRASSE Straße ΣΟΦΙΑ 東京"),
              ElementsAre("strasse", "strasse", "σοφια", "東京"));
  // Decomposed e + combining acute composes to the precomposed form.
  EXPECT_THAT(analyzer->Analyze("Cafe\xCC\x81"), ElementsAre("caf\xC3\xA9"));
}

TEST(AnalyzerTest, StripAccentsIsOptional) {
  AnalyzerOptions options;
  options.language = "none";
  options.strip_accents = true;
  auto analyzer = MakeAnalyzer(options);
  EXPECT_THAT(analyzer->Analyze("Café naïve"), ElementsAre("cafe", "naive"));
}

TEST(AnalyzerTest, StopWordsConfigurableOrDisabled) {
  AnalyzerOptions keep;
  keep.remove_stop_words = false;
  EXPECT_THAT(MakeAnalyzer(keep)->Analyze("the cat"), ElementsAre("the", "cat"));

  AnalyzerOptions custom;
  custom.stop_words = std::vector<std::string>{"CAT"};
  EXPECT_THAT(MakeAnalyzer(custom)->Analyze("the cat sat"), ElementsAre("the", "sat"));
}

TEST(AnalyzerTest, OtherLanguageStemmer) {
  AnalyzerOptions options;
  options.language = "french";
  EXPECT_THAT(MakeAnalyzer(options)->Analyze("continuellement"), ElementsAre("continuel"));
}

TEST(AnalyzerTest, UnknownLanguageIsInvalidArgument) {
  AnalyzerOptions options;
  options.language = "klingon";
  auto analyzer = Analyzer::Create(options);
  ASSERT_FALSE(analyzer.ok());
  EXPECT_EQ(analyzer.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AnalyzerTest, InvalidUtf8BytesAreSeparators) {
  auto analyzer = MakeAnalyzer();
  EXPECT_THAT(analyzer->Analyze(std::string("gene\xFF\xFEtherapy caf\xC3")),
              ElementsAre("gene", "therapi", "caf"));
  EXPECT_THAT(analyzer->Analyze(""), IsEmpty());
  EXPECT_THAT(analyzer->Analyze(" ,.;- "), IsEmpty());
}

TEST(AnalyzerTest, DropsOverlongTokens) {
  AnalyzerOptions options;
  options.max_token_bytes = 5;
  options.language = "none";
  EXPECT_THAT(MakeAnalyzer(options)->Analyze("short toolongtoken ok"),
              ElementsAre("short", "ok"));
}

TEST(AnalyzerTest, ConcurrentUseGivesSameTerms) {
  auto analyzer = MakeAnalyzer();
  const std::string text = "Vitamin D supplementation reduces fractures in elderly patients";
  const std::vector<std::string> expected = analyzer->Analyze(text);
  ASSERT_FALSE(expected.empty());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> terms;
      for (int i = 0; i < 2000; ++i) {
        analyzer->Analyze(text, &terms);
        if (terms != expected) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : mismatches) EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace tessera::retrieval
