#include "ingest/chunk/recursive_chunker.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "ingest/chunk/chunk_test_util.h"
#include "ingest/parse/text_parser.h"

namespace tessera::ingest {
namespace {

ParsedDocument ParseText(const std::string& text) {
  auto doc = TextParser().Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return *doc;
}

// A sentence of `words` words (word count == token count, plus the final ".").
std::string Sentence(const std::string& stem, int words) {
  std::string s;
  for (int i = 0; i < words; ++i) absl::StrAppend(&s, i == 0 ? "" : " ", stem, i);
  return s + ".";
}

TEST(RecursiveChunkerTest, PacksParagraphsUpToTheWindow) {
  const std::string a = Sentence("a", 9);  // 10 tokens
  const std::string b = Sentence("b", 9);
  const std::string c = Sentence("c", 9);
  const ParsedDocument doc = ParseText(absl::StrCat(a, "\n\n", b, "\n\n", c));
  auto chunks = RecursiveChunker(25, 0, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[0].text(), absl::StrCat(a, "\n\n", b));
  EXPECT_EQ((*chunks)[1].text(), c);
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 25);
}

TEST(RecursiveChunkerTest, SplitsLargeParagraphsAtSentencesNeverMidSentence) {
  std::vector<std::string> sentences;
  // Capitalised: UAX #29 does not end a sentence before a lowercase word.
  for (int i = 0; i < 12; ++i) sentences.push_back(Sentence(absl::StrCat("S", i, "w"), 6 + i % 5));
  const ParsedDocument doc = ParseText(absl::StrJoin(sentences, " "));
  auto chunks = RecursiveChunker(30, 0, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ASSERT_GT(chunks->size(), 2u);
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 30);
  for (const auto& chunk : *chunks) {
    // Every chunk is a run of whole sentences.
    EXPECT_EQ(chunk.text().back(), '.') << chunk.text();
    EXPECT_NE(std::find_if(sentences.begin(), sentences.end(),
                           [&](const std::string& s) { return chunk.text().rfind(s, 0) == 0; }),
              sentences.end())
        << chunk.text();
  }
}

TEST(RecursiveChunkerTest, SentenceLongerThanTheWindowIsSplitAtWords) {
  const std::string long_sentence = Sentence("word", 99);  // 100 tokens
  const ParsedDocument doc = ParseText(absl::StrCat("Short one. ", long_sentence, " Tail."));
  auto chunks = RecursiveChunker(16, 4, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 16);
  ASSERT_GE(chunks->size(), 7u);
  for (const auto& chunk : *chunks) {
    // Cuts fall between words: each chunk starts and ends on a whole word.
    const int64_t start = chunk.char_start();
    const int64_t end = chunk.char_end();
    EXPECT_TRUE(start == 0 || doc.text[start - 1] == ' ') << chunk.text();
    EXPECT_TRUE(end == static_cast<int64_t>(doc.text.size()) || doc.text[end] == ' ')
        << chunk.text();
  }
  // Overlap: consecutive word-level chunks share their boundary words.
  EXPECT_LT((*chunks)[2].char_start(), (*chunks)[1].char_end());
}

TEST(RecursiveChunkerTest, OverlapRepeatsWholeTrailingSentences) {
  std::vector<std::string> sentences;
  for (int i = 0; i < 6; ++i) sentences.push_back(Sentence(absl::StrCat("x", i, "y"), 4));  // 5 tokens
  const ParsedDocument doc = ParseText(absl::StrJoin(sentences, " "));
  auto chunks = RecursiveChunker(15, 5, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 15);
  ASSERT_EQ(chunks->size(), 3u);
  EXPECT_EQ((*chunks)[0].text(), absl::StrJoin({sentences[0], sentences[1], sentences[2]}, " "));
  EXPECT_EQ((*chunks)[1].text(), absl::StrJoin({sentences[2], sentences[3], sentences[4]}, " "));
  EXPECT_EQ((*chunks)[2].text(), absl::StrJoin({sentences[4], sentences[5]}, " "));
}

TEST(RecursiveChunkerTest, NeverCrossesSectionsOrPages) {
  ParsedDocument doc;
  doc.text = "Intro text.\n\nA heading\n\nBody of A.\n\nNext page.";
  //          0          11  13       22  24        34  36       46
  doc.paragraphs = {{0, 11}, {13, 22}, {24, 34}, {36, 46}};
  doc.sections = {{{"A heading"}, {13, 46}}};
  doc.pages = {{1, {0, 36}}, {2, {36, 46}}};
  auto chunks = RecursiveChunker(100, 10, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  ASSERT_EQ(chunks->size(), 3u);
  EXPECT_EQ((*chunks)[0].text(), "Intro text.");
  EXPECT_EQ((*chunks)[0].section_path_size(), 0);
  EXPECT_EQ((*chunks)[1].text(), "A heading\n\nBody of A.");
  EXPECT_EQ((*chunks)[1].section_path(0), "A heading");
  EXPECT_EQ((*chunks)[1].page(), 1);
  EXPECT_EQ((*chunks)[2].text(), "Next page.");
  EXPECT_EQ((*chunks)[2].page(), 2);
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 100);
}

TEST(RecursiveChunkerTest, MixedScriptsCjkWithoutSpacesAndEmoji) {
  std::string cjk;
  for (int i = 0; i < 40; ++i) cjk += "\xE6\xBC\xA2";  // 40 ideographs, no spaces, no terminator
  const std::string text = absl::StrCat(
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xD0\xBC\xD0\xB8\xD1\x80! "  // Привет, мир!
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9\x85. "
      "\xF0\x9F\x98\x80\xF0\x9F\x8E\x89 party.\n\n",
      cjk);
  const ParsedDocument doc = ParseText(text);
  auto chunks = RecursiveChunker(12, 2, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 12);
  // The ideograph run is split by tokens into pieces of at most 12 characters.
  int64_t cjk_chars = 0;
  for (const auto& chunk : *chunks) {
    if (chunk.text().rfind("\xE6\xBC\xA2", 0) == 0) cjk_chars += chunk.char_end() - chunk.char_start();
  }
  EXPECT_GE(cjk_chars, 40);
}

TEST(RecursiveChunkerTest, DocumentWithoutParagraphsAndBlankDocument) {
  ParsedDocument doc;
  doc.text = "  one two three\nfour five  ";
  auto chunks = RecursiveChunker(3, 0, DefaultTokenCounter()).Chunk(doc);
  ASSERT_TRUE(chunks.ok());
  ExpectChunksConsistent(doc, *chunks, DefaultTokenCounter(), 3);
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[0].text(), "one two three");
  EXPECT_EQ((*chunks)[1].text(), "four five");
  ParsedDocument blank;
  blank.text = " \n\n ";
  auto none = RecursiveChunker(3, 0, DefaultTokenCounter()).Chunk(blank);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace tessera::ingest
