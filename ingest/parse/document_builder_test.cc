#include "ingest/parse/document_builder.h"

#include "gtest/gtest.h"
#include "ingest/parse/test_util.h"

namespace tessera::ingest {
namespace {

TEST(DocumentBuilderTest, TracksParagraphsSectionsAndPages) {
  DocumentBuilder builder;
  builder.StartPage(1);
  builder.StartSection({"Intro"});
  builder.Append("Intro");
  builder.EndBlock(2);
  builder.Append("  first paragraph  ");
  builder.EndBlock(2);
  builder.StartPage(2);
  builder.Append("second");
  auto doc = builder.Finish();
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->text, "Intro\n\n  first paragraph  \n\nsecond");
  EXPECT_EQ(ParagraphTexts(*doc),
            (std::vector<std::string>{"Intro", "first paragraph", "second"}));
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].span, (CharSpan{0, 34}));
  ASSERT_EQ(doc->pages.size(), 2u);
  EXPECT_EQ(SpanText(doc->text, doc->pages[1].span), "second");
  ExpectWellFormed(*doc);
}

TEST(DocumentBuilderTest, NormalizesToNfcAndMapsOffsetsInCodePoints) {
  DocumentBuilder builder;
  builder.Append("cafe\xCC\x81 one");  // e + combining acute: 2 code points -> 1
  builder.EndBlock(2);
  builder.StartSection({"\xE6\x97\xA5\xE6\x9C\xAC"});
  builder.Append("\xE6\x97\xA5\xE6\x9C\xAC two");
  auto doc = builder.Finish();
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->text, "caf\xC3\xA9 one\n\n\xE6\x97\xA5\xE6\x9C\xAC two");
  ASSERT_EQ(doc->paragraphs.size(), 2u);
  EXPECT_EQ(doc->paragraphs[0], (CharSpan{0, 8}));
  EXPECT_EQ(doc->paragraphs[1], (CharSpan{10, 16}));
  EXPECT_EQ(doc->sections[0].span, (CharSpan{10, 16}));
  ExpectWellFormed(*doc);
}

TEST(DocumentBuilderTest, CutBeforeACombiningMarkMovesSoTheTextStaysNfc) {
  DocumentBuilder builder;
  builder.Append("e");
  builder.StartSection({"odd"});  // would split e | U+0301
  builder.Append("\xCC\x81 x");
  auto doc = builder.Finish();
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->text, "\xC3\xA9 x");
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].span, (CharSpan{1, 3}));
  ExpectWellFormed(*doc);
}

TEST(DocumentBuilderTest, RejectsInvalidUtf8) {
  DocumentBuilder builder;
  builder.Append("ok \xFF");
  auto doc = builder.Finish();
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(doc.status().message().find("byte offset 3"), std::string::npos) << doc.status();
}

TEST(DocumentBuilderTest, EmptyDocument) {
  DocumentBuilder builder;
  builder.EndBlock(2);
  auto doc = builder.Finish();
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc->text.empty());
  EXPECT_TRUE(doc->paragraphs.empty());
}

}  // namespace
}  // namespace tessera::ingest
