// Request validation for ingestion: names, ids, sizes and UTF-8 of every text field.
// All failures are INVALID_ARGUMENT with a message naming the field.
#ifndef TESSERA_INGEST_VALIDATION_H_
#define TESSERA_INGEST_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::ingest {

struct Limits {
  int64_t max_document_bytes = 64ll << 20;  // text or content
  int64_t max_id_bytes = 512;
  int64_t max_title_bytes = 64 << 10;
  int64_t max_metadata_entries = 256;
  int64_t max_metadata_value_bytes = 64 << 10;
};

// [A-Za-z0-9_.-]{1,128}
absl::Status ValidateCollectionName(absl::string_view name);

// Checks a document given to PutDocument: id present and bounded, either text or
// content (not both), sizes within `limits`, every string field valid UTF-8.
absl::Status ValidateDocument(const common::v1::Document& document, const Limits& limits);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_VALIDATION_H_
