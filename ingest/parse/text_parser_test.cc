#include "ingest/parse/text_parser.h"

#include "gtest/gtest.h"
#include "ingest/parse/test_util.h"

namespace tessera::ingest {
namespace {

TEST(TextParserTest, KeepsTextAndSplitsParagraphsAtBlankLines) {
  auto doc = TextParser().Parse(
      "\xEF\xBB\xBFTitle line\r\nsecond line\r\n\r\n  \nNext paragraph.\rLast line");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->text, "Title line\nsecond line\n\n  \nNext paragraph.\nLast line");
  EXPECT_EQ(ParagraphTexts(*doc), (std::vector<std::string>{"Title line\nsecond line",
                                                             "Next paragraph.\nLast line"}));
  EXPECT_TRUE(doc->sections.empty());
  EXPECT_TRUE(doc->pages.empty());
  ExpectWellFormed(*doc);
}

TEST(TextParserTest, MixedScriptsAndEmojiUseCodePointOffsets) {
  const std::string text =
      "\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x81\xAF\xE5\xA4\xA7\xE3\x81\x8D\xE3\x81\x84\xE3\x80\x82\n\n"  // 東京は大きい。
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9\x85\n\n"  // مرحبا بالعالم
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xF0\x9F\x98\x80\xF0\x9F\x91\x8D";  // Привет 😀👍
  auto doc = TextParser().Parse(text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->paragraphs.size(), 3u);
  EXPECT_EQ(doc->paragraphs[0], (CharSpan{0, 7}));
  EXPECT_EQ(doc->paragraphs[1], (CharSpan{9, 22}));
  EXPECT_EQ(doc->paragraphs[2], (CharSpan{24, 33}));
  EXPECT_EQ(SpanText(doc->text, doc->paragraphs[2]),
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xF0\x9F\x98\x80\xF0\x9F\x91\x8D");
  ExpectWellFormed(*doc);
}

TEST(TextParserTest, NormalizesToNfc) {
  auto doc = TextParser().Parse("Cafe\xCC\x81");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->text, "Caf\xC3\xA9");
  EXPECT_EQ(doc->paragraphs[0], (CharSpan{0, 4}));
}

TEST(TextParserTest, RejectsInvalidUtf8WithByteOffset) {
  auto doc = TextParser().Parse("hello\n\xC3(");
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(doc.status().message().find("byte offset 6"), std::string::npos) << doc.status();
}

TEST(TextParserTest, EmptyAndBlankInput) {
  auto empty = TextParser().Parse("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->text.empty());
  EXPECT_TRUE(empty->paragraphs.empty());
  auto blank = TextParser().Parse(" \n\n\t");
  ASSERT_TRUE(blank.ok());
  EXPECT_TRUE(blank->paragraphs.empty());
}

}  // namespace
}  // namespace tessera::ingest
