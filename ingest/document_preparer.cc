#include "ingest/document_preparer.h"

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "ingest/chunk/chunking.h"
#include "ingest/parse/parse.h"

namespace tessera::ingest {

absl::StatusOr<PreparedDocument> DocumentPreparer::Prepare(
    const common::v1::Document& document, const ingest::v1::ChunkingConfig& chunking) const {
  absl::Status valid = ValidateDocument(document, limits_);
  if (!valid.ok()) return valid;

  // Raw content is parsed in its format; given text is parsed too, so that
  // Markdown sent as text keeps its structure.
  const std::string& source = document.content().empty() ? document.text() : document.content();
  auto parsed = ParseDocument(document.format(), source);
  if (!parsed.ok()) {
    const std::string where = document.id().empty() ? document.source_uri() : document.id();
    return absl::Status(parsed.status().code(),
                        absl::StrCat(where.empty() ? "" : where + ": ", parsed.status().message()));
  }

  PreparedDocument prepared;
  common::v1::Document& doc = prepared.document;
  doc = document;
  doc.clear_content();
  doc.set_text(parsed->text);  // the chunker below still reads parsed->text
  if (doc.format() == common::v1::DOCUMENT_FORMAT_UNSPECIFIED) {
    doc.set_format(common::v1::DOCUMENT_FORMAT_TEXT);
  }
  // A JSON record brings its own id, title and metadata; fields the caller set win.
  if (doc.id().empty()) doc.set_id(parsed->id);
  if (doc.id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        document.source_uri().empty() ? "" : document.source_uri() + ": ",
        "document.id is required (a JSON record names it in \"_id\" or \"id\")"));
  }
  if (doc.title().empty()) doc.set_title(parsed->title);
  for (auto& [key, value] : parsed->metadata) {
    doc.mutable_metadata()->insert({key, std::move(value)});
  }
  auto title = NormalizeNfc(doc.title(), "document.title");
  if (!title.ok()) return title.status();
  doc.set_title(std::move(*title));
  // The record may have brought what the request did not have: check again.
  valid = ValidateDocument(doc, limits_);
  if (!valid.ok()) return valid;

  auto chunks = ChunkDocument(*parsed, chunking, doc.id(), doc.collection());
  if (!chunks.ok()) return chunks.status();
  prepared.chunks = std::move(*chunks);
  return prepared;
}

}  // namespace tessera::ingest
