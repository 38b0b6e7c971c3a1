#include "ingest/document_preparer.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

using common::v1::Document;

Document Make(const std::string& id, common::v1::DocumentFormat format) {
  Document doc;
  doc.set_id(id);
  doc.set_collection("c");
  doc.set_format(format);
  return doc;
}

TEST(DocumentPreparerTest, MarkdownKeepsSectionsOnChunks) {
  Document doc = Make("guide", common::v1::DOCUMENT_FORMAT_MARKDOWN);
  doc.set_content("# Install\n\nRun the installer.\n\n## Linux\n\nUse apt.\n");
  auto prepared = DocumentPreparer().Prepare(doc, {});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_TRUE(prepared->document.content().empty());
  EXPECT_NE(prepared->document.text().find("Use apt."), std::string::npos);
  ASSERT_FALSE(prepared->chunks.empty());
  const auto& last = prepared->chunks.back();
  ASSERT_EQ(last.section_path_size(), 2);
  EXPECT_EQ(last.section_path(0), "Install");
  EXPECT_EQ(last.section_path(1), "Linux");
  EXPECT_EQ(last.id(), "guide#" + std::to_string(prepared->chunks.size() - 1));
}

TEST(DocumentPreparerTest, JsonRecordBringsIdTitleAndMetadata) {
  Document doc = Make("", common::v1::DOCUMENT_FORMAT_JSON);
  doc.set_content(
      R"({"_id": "4983", "title": "Microstructural development", "text": "Alterations of the )"
      R"(architecture of cerebral white matter.", "metadata": {"year": 2002, "tags": ["mri"]}})");
  (*doc.mutable_metadata())["source"].set_string_value("beir");
  auto prepared = DocumentPreparer().Prepare(doc, {});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->document.id(), "4983");
  EXPECT_EQ(prepared->document.title(), "Microstructural development");
  EXPECT_EQ(prepared->document.text(), "Alterations of the architecture of cerebral white matter.");
  EXPECT_EQ(prepared->document.metadata().at("year").int_value(), 2002);
  EXPECT_EQ(prepared->document.metadata().at("tags").string_list_value().values(0), "mri");
  EXPECT_EQ(prepared->document.metadata().at("source").string_value(), "beir");
  ASSERT_EQ(prepared->chunks.size(), 1u);
  EXPECT_EQ(prepared->chunks[0].document_id(), "4983");
}

TEST(DocumentPreparerTest, BadJsonRecordsNameTheirSource) {
  Document doc = Make("", common::v1::DOCUMENT_FORMAT_JSON);
  doc.set_source_uri("corpus.jsonl:7");
  doc.set_content("{\"_id\": \"x\", \"text\": ");
  auto broken = DocumentPreparer().Prepare(doc, {});
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("corpus.jsonl:7"), std::string::npos)
      << broken.status();
  doc.set_content(R"({"text": "no id anywhere"})");
  auto no_id = DocumentPreparer().Prepare(doc, {});
  EXPECT_EQ(no_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_id.status().message().find("document.id is required"), std::string::npos);
}

TEST(DocumentPreparerTest, PdfChunksCarryPages) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  std::ifstream in(std::string(srcdir) + "/tessera/ingest/testdata/sample.pdf", std::ios::binary);
  ASSERT_TRUE(in) << "sample.pdf missing from runfiles";
  std::stringstream bytes;
  bytes << in.rdbuf();
  Document doc = Make("sample", common::v1::DOCUMENT_FORMAT_PDF);
  doc.set_content(bytes.str());
  auto prepared = DocumentPreparer().Prepare(doc, {});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ASSERT_GE(prepared->chunks.size(), 3u);
  EXPECT_EQ(prepared->chunks.front().page(), 1);
  EXPECT_EQ(prepared->chunks.back().page(), 3);
}

TEST(DocumentPreparerTest, ChunkingConfigIsHonoured) {
  Document doc = Make("long", common::v1::DOCUMENT_FORMAT_TEXT);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "Sentence number " + std::to_string(i) + " is here. ";
  doc.set_text(text);
  ingest::v1::ChunkingConfig fixed;
  fixed.set_strategy(ingest::v1::ChunkingConfig::FIXED_TOKENS);
  fixed.set_max_tokens(50);
  fixed.set_overlap_tokens(10);
  auto prepared = DocumentPreparer().Prepare(doc, fixed);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_GT(prepared->chunks.size(), 10u);
  for (const auto& chunk : prepared->chunks) EXPECT_LE(chunk.token_count(), 50);
  ingest::v1::ChunkingConfig none;
  none.set_strategy(ingest::v1::ChunkingConfig::NONE);
  EXPECT_EQ(DocumentPreparer().Prepare(doc, none)->chunks.size(), 1u);
}

TEST(DocumentPreparerTest, InvalidUtf8InContentReportsTheOffset) {
  Document doc = Make("bad", common::v1::DOCUMENT_FORMAT_TEXT);
  doc.set_content("fine\xff");
  auto prepared = DocumentPreparer().Prepare(doc, {});
  EXPECT_EQ(prepared.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(prepared.status().message().find("byte offset 4"), std::string::npos)
      << prepared.status();
}

}  // namespace
}  // namespace tessera::ingest
