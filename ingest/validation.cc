#include "ingest/validation.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace tessera::ingest {
namespace {

absl::Status CheckSize(absl::string_view field, size_t size, int64_t limit) {
  if (static_cast<int64_t>(size) > limit) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", size, " bytes; the limit is ", limit));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadataValue(const std::string& key,
                                   const common::v1::MetadataValue& value, const Limits& limits) {
  const std::string field = absl::StrCat("document.metadata[\"", key, "\"]");
  switch (value.kind_case()) {
    case common::v1::MetadataValue::kStringValue: {
      absl::Status status = CheckSize(field, value.string_value().size(),
                                      limits.max_metadata_value_bytes);
      if (!status.ok()) return status;
      return ValidateUtf8(value.string_value(), field);
    }
    case common::v1::MetadataValue::kStringListValue: {
      size_t total = 0;
      for (const std::string& item : value.string_list_value().values()) {
        total += item.size();
        absl::Status status = ValidateUtf8(item, field);
        if (!status.ok()) return status;
      }
      return CheckSize(field, total, limits.max_metadata_value_bytes);
    }
    case common::v1::MetadataValue::KIND_NOT_SET:
      return absl::InvalidArgumentError(absl::StrCat(field, " has no value"));
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::Status ValidateCollectionName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("collection name is required");
  if (name.size() > 128) {
    return absl::InvalidArgumentError(
        absl::StrCat("collection name is ", name.size(), " bytes; the limit is 128"));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "collection name \"", absl::CHexEscape(name), "\" may contain only letters, digits, "
          "'_', '.' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDocument(const common::v1::Document& document, const Limits& limits) {
  // A JSON record sent as raw content names its own id; it is checked after parsing.
  const bool id_from_record =
      document.format() == common::v1::DOCUMENT_FORMAT_JSON && !document.content().empty();
  if (document.id().empty() && !id_from_record) {
    return absl::InvalidArgumentError("document.id is required");
  }
  absl::Status status = CheckSize("document.id", document.id().size(), limits.max_id_bytes);
  if (!status.ok()) return status;
  status = ValidateUtf8(document.id(), "document.id");
  if (!status.ok()) return status;
  status = ValidateCollectionName(document.collection());
  if (!status.ok()) return status;
  if (!document.text().empty() && !document.content().empty()) {
    return absl::InvalidArgumentError("document: give either text or content, not both");
  }
  status = CheckSize("document.text", document.text().size(), limits.max_document_bytes);
  if (!status.ok()) return status;
  status = CheckSize("document.content", document.content().size(), limits.max_document_bytes);
  if (!status.ok()) return status;
  status = CheckSize("document.title", document.title().size(), limits.max_title_bytes);
  if (!status.ok()) return status;
  status = ValidateUtf8(document.title(), "document.title");
  if (!status.ok()) return status;
  status = ValidateUtf8(document.text(), "document.text");
  if (!status.ok()) return status;
  status = ValidateUtf8(document.source_uri(), "document.source_uri");
  if (!status.ok()) return status;
  if (document.metadata_size() > limits.max_metadata_entries) {
    return absl::InvalidArgumentError(absl::StrCat("document.metadata has ",
                                                   document.metadata_size(),
                                                   " entries; the limit is ",
                                                   limits.max_metadata_entries));
  }
  for (const auto& [key, value] : document.metadata()) {
    status = ValidateUtf8(key, "document.metadata key");
    if (!status.ok()) return status;
    if (key.empty()) return absl::InvalidArgumentError("document.metadata has an empty key");
    status = ValidateMetadataValue(key, value, limits);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace tessera::ingest
