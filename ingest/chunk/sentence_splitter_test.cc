#include "ingest/chunk/sentence_splitter.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

std::vector<std::string> Sentences(absl::string_view text) {
  auto splitter = SentenceSplitter::Create();
  EXPECT_TRUE(splitter.ok()) << splitter.status();
  std::vector<std::string> out;
  size_t begin = 0;
  for (size_t end : (*splitter)->SentenceEnds(text)) {
    out.emplace_back(text.substr(begin, end - begin));
    begin = end;
  }
  return out;
}

TEST(SentenceSplitterTest, SplitsProseAndKeepsAbbreviations) {
  EXPECT_EQ(Sentences("Dr. Smith went home. He slept well! Did he? Yes."),
            (std::vector<std::string>{"Dr. Smith went home. ", "He slept well! ", "Did he? ",
                                      "Yes."}));
}

TEST(SentenceSplitterTest, WrappedLinesDoNotEndSentences) {
  EXPECT_EQ(Sentences("This sentence is\nwrapped over lines. Next one."),
            (std::vector<std::string>{"This sentence is\nwrapped over lines. ", "Next one."}));
}

TEST(SentenceSplitterTest, CjkAndArabicTerminators) {
  // 今日は晴れ。明日は雨。
  EXPECT_EQ(Sentences("\xE4\xBB\x8A\xE6\x97\xA5\xE3\x81\xAF\xE6\x99\xB4\xE3\x82\x8C\xE3\x80\x82"
                      "\xE6\x98\x8E\xE6\x97\xA5\xE3\x81\xAF\xE9\x9B\xA8\xE3\x80\x82"),
            (std::vector<std::string>{
                "\xE4\xBB\x8A\xE6\x97\xA5\xE3\x81\xAF\xE6\x99\xB4\xE3\x82\x8C\xE3\x80\x82",
                "\xE6\x98\x8E\xE6\x97\xA5\xE3\x81\xAF\xE9\x9B\xA8\xE3\x80\x82"}));
  // هل أنت هنا؟ نعم.
  EXPECT_EQ(Sentences("\xD9\x87\xD9\x84 \xD8\xA3\xD9\x86\xD8\xAA \xD9\x87\xD9\x86\xD8\xA7\xD8\x9F "
                      "\xD9\x86\xD8\xB9\xD9\x85."),
            (std::vector<std::string>{
                "\xD9\x87\xD9\x84 \xD8\xA3\xD9\x86\xD8\xAA \xD9\x87\xD9\x86\xD8\xA7\xD8\x9F ",
                "\xD9\x86\xD8\xB9\xD9\x85."}));
}

TEST(SentenceSplitterTest, EmptyAndUnterminated) {
  EXPECT_TRUE(Sentences("").empty());
  EXPECT_EQ(Sentences("no terminator here"), (std::vector<std::string>{"no terminator here"}));
}

}  // namespace
}  // namespace tessera::ingest
