#include "ingest/validation.h"

#include <string>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

common::v1::Document Valid() {
  common::v1::Document doc;
  doc.set_id("d1");
  doc.set_collection("c");
  doc.set_text("hello");
  return doc;
}

TEST(ValidationTest, AcceptsAValidDocument) { EXPECT_TRUE(ValidateDocument(Valid(), {}).ok()); }

TEST(ValidationTest, RequiresId) {
  auto doc = Valid();
  doc.clear_id();
  absl::Status status = ValidateDocument(doc, {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("document.id"), std::string::npos);
}

TEST(ValidationTest, RejectsOversizedText) {
  Limits limits;
  limits.max_document_bytes = 10;
  auto doc = Valid();
  doc.set_text(std::string(11, 'x'));
  absl::Status status = ValidateDocument(doc, limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("limit is 10"), std::string::npos) << status;
}

TEST(ValidationTest, RejectsInvalidUtf8InEveryTextField) {
  auto doc = Valid();
  doc.set_text("ok\xc3");
  EXPECT_NE(ValidateDocument(doc, {}).message().find("document.text"), std::string::npos);
  doc = Valid();
  doc.set_title("\xff");
  EXPECT_NE(ValidateDocument(doc, {}).message().find("document.title"), std::string::npos);
  doc = Valid();
  doc.set_id("\xfe");
  EXPECT_NE(ValidateDocument(doc, {}).message().find("document.id"), std::string::npos);
  doc = Valid();
  (*doc.mutable_metadata())["k"].set_string_value("\x80");
  EXPECT_NE(ValidateDocument(doc, {}).message().find("metadata"), std::string::npos);
}

TEST(ValidationTest, RejectsTextAndContentTogether) {
  auto doc = Valid();
  doc.set_content("raw");
  EXPECT_EQ(ValidateDocument(doc, {}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidationTest, CollectionNames) {
  EXPECT_TRUE(ValidateCollectionName("my_docs-v1.2").ok());
  EXPECT_FALSE(ValidateCollectionName("").ok());
  EXPECT_FALSE(ValidateCollectionName("a b").ok());
  EXPECT_FALSE(ValidateCollectionName(std::string(129, 'a')).ok());
}

}  // namespace
}  // namespace tessera::ingest
