#include "ingest/document_preparer.h"

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace tessera::ingest {

absl::StatusOr<PreparedDocument> DocumentPreparer::Prepare(
    const common::v1::Document& document, const ingest::v1::ChunkingConfig& chunking) const {
  absl::Status valid = ValidateDocument(document, limits_);
  if (!valid.ok()) return valid;
  PreparedDocument prepared;
  prepared.document = document;
  common::v1::Document& doc = prepared.document;
  if (!doc.content().empty()) {
    if (doc.format() != common::v1::DOCUMENT_FORMAT_TEXT &&
        doc.format() != common::v1::DOCUMENT_FORMAT_UNSPECIFIED) {
      return absl::UnimplementedError(absl::StrCat(
          "document.format ", common::v1::DocumentFormat_Name(doc.format()),
          " is not supported yet; send plain text"));
    }
    absl::Status status = ValidateUtf8(doc.content(), "document.content");
    if (!status.ok()) return status;
    doc.set_text(doc.content());
    doc.clear_content();
  }
  auto text = NormalizeNfc(doc.text(), "document.text");
  if (!text.ok()) return text.status();
  doc.set_text(std::move(*text));
  auto title = NormalizeNfc(doc.title(), "document.title");
  if (!title.ok()) return title.status();
  doc.set_title(std::move(*title));
  if (doc.format() == common::v1::DOCUMENT_FORMAT_UNSPECIFIED) {
    doc.set_format(common::v1::DOCUMENT_FORMAT_TEXT);
  }

  if (!doc.text().empty()) {
    common::v1::Chunk chunk;
    chunk.set_text(doc.text());
    chunk.set_char_start(0);
    chunk.set_char_end(static_cast<int64_t>(CodePointCount(doc.text())));
    prepared.chunks.push_back(std::move(chunk));
  }
  return prepared;
}

}  // namespace tessera::ingest
