// Document ingestion, PDF (libpoppler-cpp): pages, paragraphs, info dictionary.
#include <cstddef>
#include <cstdint>

#include "fuzz/document_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera::fuzz::FuzzDocument(tessera::common::v1::DOCUMENT_FORMAT_PDF, data, size);
  return 0;
}
