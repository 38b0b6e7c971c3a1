// Turns a document as received (text or raw content in some format) into what the
// store keeps: validated, NFC-normalised text plus its chunks.
#ifndef TESSERA_INGEST_DOCUMENT_PREPARER_H_
#define TESSERA_INGEST_DOCUMENT_PREPARER_H_

#include "absl/status/statusor.h"
#include "ingest/document_store.h"
#include "ingest/validation.h"
#include "tessera/ingest/v1/ingest.pb.h"

namespace tessera::ingest {

class DocumentPreparer {
 public:
  explicit DocumentPreparer(Limits limits = Limits()) : limits_(limits) {}

  // Validates `document`, parses its content, normalises the text and chunks it
  // with `chunking` (defaults when unset).
  absl::StatusOr<PreparedDocument> Prepare(const common::v1::Document& document,
                                           const ingest::v1::ChunkingConfig& chunking) const;

  const Limits& limits() const { return limits_; }

 private:
  Limits limits_;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_DOCUMENT_PREPARER_H_
