#include "retrieval/beir.h"

#include <simdjson.h>

#include <fstream>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tessera::retrieval {
namespace {

absl::Status LineError(const std::string& path, int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", what));
}

// Calls handle(line_number, line) for each non-blank line.
absl::Status ForEachLine(const std::string& path,
                         const std::function<absl::Status(int, absl::string_view)>& handle) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (absl::Status status = handle(number, line); !status.ok()) return status;
  }
  if (in.bad()) return absl::InternalError(absl::StrCat("error reading ", path));
  return absl::OkStatus();
}

// A string field; numbers are accepted for ids (some BEIR exports use them).
bool ReadField(const simdjson::dom::element& object, const char* key, std::string* out,
               bool allow_number) {
  simdjson::dom::element value;
  if (object[key].get(value) != simdjson::SUCCESS) return false;
  std::string_view text;
  if (value.get(text) == simdjson::SUCCESS) {
    out->assign(text.data(), text.size());
    return true;
  }
  if (!allow_number) return false;
  int64_t integer;
  if (value.get(integer) == simdjson::SUCCESS) {
    *out = absl::StrCat(integer);
    return true;
  }
  return false;
}

absl::StatusOr<simdjson::dom::element> ParseObject(simdjson::dom::parser& parser,
                                                   absl::string_view line,
                                                   const std::string& path, int number) {
  simdjson::dom::element element;
  const simdjson::padded_string padded(line.data(), line.size());
  if (auto error = parser.parse(padded).get(element); error != simdjson::SUCCESS) {
    return LineError(path, number, absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  if (!element.is_object()) return LineError(path, number, "expected a JSON object");
  return element;
}

}  // namespace

absl::StatusOr<std::vector<BeirDocument>> LoadBeirCorpus(const std::string& path) {
  std::vector<BeirDocument> documents;
  simdjson::dom::parser parser;
  absl::Status status = ForEachLine(path, [&](int number, absl::string_view line) {
    auto object = ParseObject(parser, line, path, number);
    if (!object.ok()) return object.status();
    BeirDocument document;
    if (!ReadField(*object, "_id", &document.id, true) || document.id.empty()) {
      return LineError(path, number, "missing or empty \"_id\"");
    }
    if (!ReadField(*object, "text", &document.text, false)) {
      return LineError(path, number, "missing string \"text\"");
    }
    ReadField(*object, "title", &document.title, false);
    simdjson::dom::element metadata;
    if ((*object)["metadata"].get(metadata) == simdjson::SUCCESS) {
      document.metadata_json = simdjson::minify(metadata);
    }
    documents.push_back(std::move(document));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return documents;
}

absl::StatusOr<std::vector<BeirQuery>> LoadBeirQueries(const std::string& path) {
  std::vector<BeirQuery> queries;
  simdjson::dom::parser parser;
  absl::Status status = ForEachLine(path, [&](int number, absl::string_view line) {
    auto object = ParseObject(parser, line, path, number);
    if (!object.ok()) return object.status();
    BeirQuery query;
    if (!ReadField(*object, "_id", &query.id, true) || query.id.empty()) {
      return LineError(path, number, "missing or empty \"_id\"");
    }
    if (!ReadField(*object, "text", &query.text, false)) {
      return LineError(path, number, "missing string \"text\"");
    }
    queries.push_back(std::move(query));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return queries;
}

absl::StatusOr<eval::Qrels> LoadBeirQrels(const std::string& path) {
  eval::Qrels qrels;
  bool first = true;
  absl::Status status = ForEachLine(path, [&](int number, absl::string_view line) {
    const bool header = first;
    first = false;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar("\t "), absl::SkipEmpty());
    int score = 0;
    if (fields.size() != 3 || !absl::SimpleAtoi(fields[2], &score)) {
      if (header) return absl::OkStatus();  // "query-id corpus-id score"
      return LineError(path, number, "expected: query-id <TAB> corpus-id <TAB> integer score");
    }
    qrels[fields[0]][fields[1]] = score;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return qrels;
}

}  // namespace tessera::retrieval
