// Document ingestion, Markdown: ATX/setext headings, fences, front matter.
#include <cstddef>
#include <cstdint>

#include "fuzz/document_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera::fuzz::FuzzDocument(tessera::common::v1::DOCUMENT_FORMAT_MARKDOWN, data, size);
  return 0;
}
