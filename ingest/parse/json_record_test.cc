#include "ingest/parse/json_record.h"

#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

using common::v1::MetadataValue;

TEST(JsonRecordTest, BeirRecordWithTypedMetadata) {
  auto record = ParseJsonRecord(R"({"_id": "doc-7", "title": "Caf\u0065\u0301 notes",
      "text": "Some text.", "metadata": {"year": 2021, "score": 0.75, "published": true,
      "tags": ["a", "b"], "when": "2024-03-01T12:00:00Z", "missing": null,
      "source": {"name": "wiki", "rank": 3}, "mixed": ["x", 1, false]}, "url": "http://x",
      "year": 1999})");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->id, "doc-7");
  EXPECT_EQ(record->title, "Caf\xC3\xA9 notes");  // NFC
  EXPECT_EQ(record->text, "Some text.");
  const auto& m = record->metadata;
  EXPECT_EQ(m.at("year").kind_case(), MetadataValue::kIntValue);
  EXPECT_EQ(m.at("year").int_value(), 2021);  // "metadata" wins over the top-level field
  EXPECT_EQ(m.at("score").kind_case(), MetadataValue::kDoubleValue);
  EXPECT_DOUBLE_EQ(m.at("score").double_value(), 0.75);
  EXPECT_EQ(m.at("published").kind_case(), MetadataValue::kBoolValue);
  EXPECT_TRUE(m.at("published").bool_value());
  ASSERT_EQ(m.at("tags").kind_case(), MetadataValue::kStringListValue);
  EXPECT_EQ(m.at("tags").string_list_value().values_size(), 2);
  EXPECT_EQ(m.at("tags").string_list_value().values(1), "b");
  EXPECT_EQ(m.at("when").kind_case(), MetadataValue::kStringValue);
  EXPECT_EQ(m.at("when").string_value(), "2024-03-01T12:00:00Z");
  EXPECT_EQ(m.count("missing"), 0u);
  EXPECT_EQ(m.at("source.name").string_value(), "wiki");
  EXPECT_EQ(m.at("source.rank").int_value(), 3);
  EXPECT_EQ(m.at("mixed").string_list_value().values(1), "1");
  EXPECT_EQ(m.at("mixed").string_list_value().values(2), "false");
  EXPECT_EQ(m.at("url").string_value(), "http://x");
}

TEST(JsonRecordTest, IdFallbacksAndLargeNumbers) {
  auto record = ParseJsonRecord(R"({"id": 42, "text": "t", "metadata": {"big": 18446744073709551615}})");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->id, "42");
  EXPECT_EQ(record->metadata.at("big").kind_case(), MetadataValue::kDoubleValue);
  auto no_id = ParseJsonRecord(R"({"text": "only text"})");
  ASSERT_TRUE(no_id.ok());
  EXPECT_TRUE(no_id->id.empty());
  EXPECT_TRUE(no_id->title.empty());
}

TEST(JsonRecordTest, BadRecordsAreClearErrors) {
  struct Case {
    std::string json;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"text": "x",)", "malformed JSON at byte offset"},
           {R"([1, 2])", "expected an object"},
           {R"({"text": 5})", "\"text\" must be a string"},
           {R"({"title": ["a"]})", "\"title\" must be a string"},
           {R"({"metadata": [1]})", "\"metadata\" must be an object"},
           {R"({"metadata": {"k": [[1]]}})", "a list may hold only"},
           {"{\"text\": \"\xFF\"}", "invalid UTF-8 at byte offset 10"},
           {"", "malformed JSON"},
       }) {
    auto record = ParseJsonRecord(c.json);
    ASSERT_FALSE(record.ok()) << c.json;
    EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(record.status().message().find(c.message), std::string::npos)
        << c.json << " -> " << record.status();
  }
}

TEST(JsonRecordTest, DeeplyNestedMetadataIsRejected) {
  std::string json = R"({"metadata": )";
  for (int i = 0; i < 20; ++i) json += R"({"k": )";
  json += "1";
  for (int i = 0; i < 20; ++i) json += "}";
  json += "}";
  auto record = ParseJsonRecord(json);
  EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonlReaderTest, StreamsRecordsAndNamesTheBadLine) {
  std::istringstream input(
      "{\"_id\": \"1\", \"text\": \"one\"}\r\n"
      "\n"
      "{\"_id\": \"2\", \"text\": \"two\"}\n"
      "{\"_id\": \"3\", \"text\": }\n"
      "{\"_id\": \"4\", \"text\": \"four\"}");
  JsonlReader reader(&input);
  JsonRecord record;
  auto next = reader.Next(&record);
  ASSERT_TRUE(next.ok() && *next);
  EXPECT_EQ(record.id, "1");
  EXPECT_EQ(reader.line_number(), 1);
  next = reader.Next(&record);
  ASSERT_TRUE(next.ok() && *next);
  EXPECT_EQ(record.text, "two");
  EXPECT_EQ(reader.line_number(), 3);
  next = reader.Next(&record);
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("line 4:"), std::string::npos) << next.status();
  next = reader.Next(&record);  // reading goes on after a bad record
  ASSERT_TRUE(next.ok() && *next);
  EXPECT_EQ(record.id, "4");
  next = reader.Next(&record);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(*next);
}

TEST(JsonRecordParserTest, ProducesAParsedDocument) {
  auto doc = JsonRecordParser().Parse(
      R"({"_id": "d", "title": "T", "text": "Para one.\n\nPara two.", "metadata": {"n": 1}})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->id, "d");
  EXPECT_EQ(doc->title, "T");
  EXPECT_EQ(doc->text, "Para one.\n\nPara two.");
  EXPECT_EQ(doc->paragraphs.size(), 2u);
  EXPECT_EQ(doc->metadata.at("n").int_value(), 1);
}

}  // namespace
}  // namespace tessera::ingest
