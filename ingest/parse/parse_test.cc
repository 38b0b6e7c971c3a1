#include "ingest/parse/parse.h"

#include <string>

#include "gtest/gtest.h"
#include "ingest/parse/test_util.h"

namespace tessera::ingest {
namespace {

using common::v1::DocumentFormat;

TEST(ParseDocumentTest, DispatchesOnFormat) {
  auto text = ParseDocument(common::v1::DOCUMENT_FORMAT_UNSPECIFIED, "# not a heading");
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(text->sections.empty());
  auto md = ParseDocument(common::v1::DOCUMENT_FORMAT_MARKDOWN, "# Heading\nbody");
  ASSERT_TRUE(md.ok());
  ASSERT_EQ(md->sections.size(), 1u);
  auto html = ParseDocument(common::v1::DOCUMENT_FORMAT_HTML, "<h1>H</h1><p>x</p>");
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->text, "H\n\nx\n\n");
  auto json = ParseDocument(common::v1::DOCUMENT_FORMAT_JSON, R"({"_id":"a","text":"b"})");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->id, "a");
  auto pdf = ParseDocument(common::v1::DOCUMENT_FORMAT_PDF, "%PDF-1.4 broken");
  EXPECT_EQ(pdf.status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown = ParseDocument(static_cast<DocumentFormat>(99), "x");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown document format 99"), std::string::npos);
}

TEST(GuessFormatTest, ByExtension) {
  EXPECT_EQ(GuessFormat("notes.TXT", ""), common::v1::DOCUMENT_FORMAT_TEXT);
  EXPECT_EQ(GuessFormat("a/b/readme.md", ""), common::v1::DOCUMENT_FORMAT_MARKDOWN);
  EXPECT_EQ(GuessFormat("x.markdown", ""), common::v1::DOCUMENT_FORMAT_MARKDOWN);
  EXPECT_EQ(GuessFormat("page.htm", ""), common::v1::DOCUMENT_FORMAT_HTML);
  EXPECT_EQ(GuessFormat("page.html", "%PDF-"), common::v1::DOCUMENT_FORMAT_HTML);
  EXPECT_EQ(GuessFormat("paper.pdf", ""), common::v1::DOCUMENT_FORMAT_PDF);
  EXPECT_EQ(GuessFormat("corpus.jsonl", ""), common::v1::DOCUMENT_FORMAT_JSON);
  EXPECT_EQ(GuessFormat("record.json", ""), common::v1::DOCUMENT_FORMAT_JSON);
  EXPECT_TRUE(IsJsonLinesFileName("corpus.JSONL"));
  EXPECT_FALSE(IsJsonLinesFileName("record.json"));
}

TEST(GuessFormatTest, ByContent) {
  EXPECT_EQ(GuessFormat("blob", "%PDF-1.7\n..."), common::v1::DOCUMENT_FORMAT_PDF);
  EXPECT_EQ(GuessFormat("blob", "\xEF\xBB\xBF  <!DOCTYPE html><html>"),
            common::v1::DOCUMENT_FORMAT_HTML);
  EXPECT_EQ(GuessFormat("", "<HTML><body>"), common::v1::DOCUMENT_FORMAT_HTML);
  EXPECT_EQ(GuessFormat("", "  {\"text\": 1}"), common::v1::DOCUMENT_FORMAT_JSON);
  EXPECT_EQ(GuessFormat("", "intro\n## Part\n"), common::v1::DOCUMENT_FORMAT_MARKDOWN);
  EXPECT_EQ(GuessFormat("", "text\n```\ncode\n```"), common::v1::DOCUMENT_FORMAT_MARKDOWN);
  EXPECT_EQ(GuessFormat("dotfile.", "just words #hashtag"), common::v1::DOCUMENT_FORMAT_TEXT);
  EXPECT_EQ(GuessFormat("", ""), common::v1::DOCUMENT_FORMAT_TEXT);
}

}  // namespace
}  // namespace tessera::ingest
