#include "ingest/parse/json_record.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "ingest/parse/text_parser.h"
#include "nlohmann/json.hpp"

namespace tessera::ingest {
namespace {

using json = nlohmann::json;
using common::v1::MetadataValue;

// Nested metadata objects are flattened; this bounds the key length they can build.
constexpr int kMaxMetadataDepth = 8;

absl::StatusOr<std::string> NfcString(const json& value, absl::string_view field) {
  if (!value.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("json record: \"", field, "\" must be a string, not ", value.type_name()));
  }
  return NormalizeNfc(value.get_ref<const std::string&>(), field);
}

absl::Status AddMetadata(const std::string& key, const json& value, int depth,
                         std::map<std::string, MetadataValue>* metadata) {
  auto nfc_key = NormalizeNfc(key, "metadata key");
  if (!nfc_key.ok()) return nfc_key.status();
  MetadataValue out;
  switch (value.type()) {
    case json::value_t::null:
      return absl::OkStatus();
    case json::value_t::string: {
      auto s = NfcString(value, key);
      if (!s.ok()) return s.status();
      out.set_string_value(std::move(*s));
      break;
    }
    case json::value_t::boolean:
      out.set_bool_value(value.get<bool>());
      break;
    case json::value_t::number_integer:
      out.set_int_value(value.get<int64_t>());
      break;
    case json::value_t::number_unsigned: {
      uint64_t u = value.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        out.set_int_value(static_cast<int64_t>(u));
      } else {
        out.set_double_value(static_cast<double>(u));
      }
      break;
    }
    case json::value_t::number_float:
      out.set_double_value(value.get<double>());
      break;
    case json::value_t::array: {
      common::v1::StringList* list = out.mutable_string_list_value();
      for (const json& item : value) {
        if (item.is_string()) {
          auto s = NfcString(item, key);
          if (!s.ok()) return s.status();
          list->add_values(std::move(*s));
        } else if (item.is_number() || item.is_boolean()) {
          list->add_values(item.dump());
        } else if (!item.is_null()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "json record: metadata \"", key, "\": a list may hold only strings, numbers and bools"));
        }
      }
      break;
    }
    case json::value_t::object: {
      if (depth >= kMaxMetadataDepth) {
        return absl::InvalidArgumentError(absl::StrCat(
            "json record: metadata \"", key, "\" nests deeper than ", kMaxMetadataDepth, " levels"));
      }
      for (const auto& [inner_key, inner_value] : value.items()) {
        absl::Status status =
            AddMetadata(absl::StrCat(key, ".", inner_key), inner_value, depth + 1, metadata);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("json record: metadata \"", key, "\" has an unsupported type"));
  }
  (*metadata)[std::move(*nfc_key)] = std::move(out);
  return absl::OkStatus();
}

absl::StatusOr<JsonRecord> RecordFromJson(const json& root) {
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("json record: expected an object, not ", root.type_name()));
  }
  JsonRecord record;
  for (const char* id_field : {"_id", "id"}) {
    auto it = root.find(id_field);
    if (it == root.end() || it->is_null()) continue;
    if (it->is_number_integer() || it->is_number_unsigned()) {
      record.id = it->dump();
    } else {
      auto id = NfcString(*it, id_field);
      if (!id.ok()) return id.status();
      record.id = std::move(*id);
    }
    break;
  }
  for (auto [field, target] : {std::pair<const char*, std::string*>{"title", &record.title},
                               std::pair<const char*, std::string*>{"text", &record.text}}) {
    auto it = root.find(field);
    if (it == root.end() || it->is_null()) continue;
    auto value = NfcString(*it, field);
    if (!value.ok()) return value.status();
    *target = std::move(*value);
  }
  if (auto it = root.find("metadata"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "json record: \"metadata\" must be an object, not ", it->type_name()));
    }
    for (const auto& [key, value] : it->items()) {
      absl::Status status = AddMetadata(key, value, 1, &record.metadata);
      if (!status.ok()) return status;
    }
  }
  for (const auto& [key, value] : root.items()) {
    if (key == "_id" || key == "id" || key == "title" || key == "text" || key == "metadata") {
      continue;
    }
    std::map<std::string, MetadataValue> extra;
    absl::Status status = AddMetadata(key, value, 1, &extra);
    if (!status.ok()) return status;
    for (auto& [extra_key, extra_value] : extra) {
      record.metadata.emplace(extra_key, std::move(extra_value));  // "metadata" wins
    }
  }
  return record;
}

}  // namespace

absl::StatusOr<JsonRecord> ParseJsonRecord(absl::string_view text) {
  absl::Status valid = ValidateUtf8(text, "json record");
  if (!valid.ok()) return valid;
  // nlohmann::json reports errors by exception; none may cross this boundary.
  try {
    json root = json::parse(text.begin(), text.end());
    return RecordFromJson(root);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "json record: malformed JSON at byte offset ", e.byte > 0 ? e.byte - 1 : 0, ": ", e.what()));
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("json record: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("json record: out of memory");
  }
}

absl::StatusOr<ParsedDocument> JsonRecordParser::Parse(absl::string_view bytes) const {
  auto record = ParseJsonRecord(bytes);
  if (!record.ok()) return record.status();
  auto parsed = TextParser().Parse(record->text);
  if (!parsed.ok()) return parsed.status();
  parsed->title = std::move(record->title);
  parsed->metadata = std::move(record->metadata);
  parsed->id = std::move(record->id);
  return parsed;
}

absl::StatusOr<bool> JsonlReader::Next(JsonRecord* record) {
  while (std::getline(*input_, line_)) {
    ++line_number_;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    bool blank = true;
    for (char c : line_) {
      if (c != ' ' && c != '\t') {
        blank = false;
        break;
      }
    }
    if (blank) continue;
    auto parsed = ParseJsonRecord(line_);
    if (!parsed.ok()) {
      return absl::Status(parsed.status().code(),
                          absl::StrCat("line ", line_number_, ": ", parsed.status().message()));
    }
    *record = std::move(*parsed);
    return true;
  }
  if (input_->bad()) {
    return absl::DataLossError(absl::StrCat("jsonl: read failed after line ", line_number_));
  }
  return false;
}

}  // namespace tessera::ingest
