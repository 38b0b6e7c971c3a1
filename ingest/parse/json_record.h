// JSON records in the BEIR corpus shape, one object per document:
//   {"_id": "d1", "title": "...", "text": "...", "metadata": {"year": 2020, ...}}
// and a streaming reader for JSON Lines files of them.
#ifndef TESSERA_INGEST_PARSE_JSON_RECORD_H_
#define TESSERA_INGEST_PARSE_JSON_RECORD_H_

#include <cstdint>
#include <istream>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::ingest {

struct JsonRecord {
  std::string id;     // "_id", else "id" (a number is turned into its decimal text); may be empty
  std::string title;  // NFC
  std::string text;   // NFC
  std::map<std::string, common::v1::MetadataValue> metadata;
};

// Parses one record. Fields:
//  - "_id" / "id": string or integer.  "title", "text": strings (absent = empty).
//  - "metadata": an object whose values become typed metadata: string -> string
//    (ISO-8601 dates stay strings), integer -> int (above INT64_MAX -> double),
//    float -> double, bool -> bool, array of strings -> string list (numbers and
//    bools in an array are written as their JSON text), null -> omitted, nested
//    object -> flattened into "outer.inner" keys.
//  - Any other top-level field is metadata too, unless "metadata" has that key.
// INVALID_ARGUMENT (with the byte offset) for malformed JSON, invalid UTF-8, a
// non-object, wrong field types or arrays holding arrays or objects.
absl::StatusOr<JsonRecord> ParseJsonRecord(absl::string_view json);

// A JSON record as a ParsedDocument (text split into paragraphs like plain text).
class JsonRecordParser : public Parser {
 public:
  absl::StatusOr<ParsedDocument> Parse(absl::string_view bytes) const override;
};

// Reads JSON Lines one record at a time; blank lines are skipped. Errors name the
// 1-based line number of the bad record. Reading can go on after a bad record.
class JsonlReader {
 public:
  // `input` must outlive the reader.
  explicit JsonlReader(std::istream* input) : input_(input) {}

  // Fills `record` and returns true; false at the end of the input; an error for
  // a bad record ("line 7: ...") or a failed read.
  absl::StatusOr<bool> Next(JsonRecord* record);

  // Line number of the record last returned (or failed).
  int64_t line_number() const { return line_number_; }

 private:
  std::istream* input_;
  std::string line_;
  int64_t line_number_ = 0;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_JSON_RECORD_H_
