#include "ingest/parse/pdf_parser.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "ingest/parse/test_util.h"

namespace tessera::ingest {
namespace {

// Test data is a runfile; Bazel runs tests from the workspace's runfiles directory.
std::string ReadTestFile(const std::string& name) {
  std::string path = "ingest/testdata/" + name;
  if (const char* srcdir = std::getenv("TEST_SRCDIR"); srcdir != nullptr) {
    const char* workspace = std::getenv("TEST_WORKSPACE");
    path = std::string(srcdir) + "/" + (workspace ? workspace : "tessera") + "/" + path;
  }
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(PdfParserTest, ExtractsTextPerPage) {
  const std::string pdf = ReadTestFile("sample.pdf");
  ASSERT_FALSE(pdf.empty());
  auto doc = PdfParser().Parse(pdf);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->title, "Tessera Sample");
  EXPECT_EQ(doc->metadata.at("author").string_value(), "Tessera Tests");
  EXPECT_EQ(doc->metadata.at("page_count").int_value(), 3);
  ASSERT_EQ(doc->pages.size(), 3u);
  const std::string page1 = SpanText(doc->text, doc->pages[0].span);
  const std::string page2 = SpanText(doc->text, doc->pages[1].span);
  const std::string page3 = SpanText(doc->text, doc->pages[2].span);
  EXPECT_NE(page1.find("Tessera sample document"), std::string::npos) << page1;
  EXPECT_NE(page1.find("Page one talks about retrieval."), std::string::npos) << page1;
  EXPECT_NE(page2.find("Page two covers chunking of long texts."), std::string::npos) << page2;
  EXPECT_NE(page2.find("A second paragraph on page two."), std::string::npos) << page2;
  EXPECT_EQ(page2.find("Page one"), std::string::npos);
  EXPECT_NE(page3.find("Page three ends the document with caf\xC3\xA9."), std::string::npos) << page3;
  ExpectWellFormed(*doc);
}

TEST(PdfParserTest, EncryptedPdfIsAClearError) {
  const std::string pdf = ReadTestFile("encrypted.pdf");
  ASSERT_FALSE(pdf.empty());
  auto doc = PdfParser().Parse(pdf);
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kFailedPrecondition) << doc.status();
  EXPECT_NE(doc.status().message().find("encrypted"), std::string::npos) << doc.status();
}

TEST(PdfParserTest, GarbageAndTruncatedFilesAreInvalid) {
  auto garbage = PdfParser().Parse("this is not a pdf at all");
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument) << garbage.status();
  EXPECT_NE(garbage.status().message().find("cannot open"), std::string::npos);
  EXPECT_EQ(PdfParser().Parse("").status().code(), absl::StatusCode::kInvalidArgument);
  const std::string pdf = ReadTestFile("sample.pdf");
  auto truncated = PdfParser().Parse(absl::string_view(pdf).substr(0, pdf.size() / 3));
  // Poppler may recover part of a damaged file; it must never crash, and whatever
  // it returns must be well formed.
  if (truncated.ok()) {
    ExpectWellFormed(*truncated);
  } else {
    EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tessera::ingest
