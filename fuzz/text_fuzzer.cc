// Document ingestion, Plain text: line ends, byte-order mark, NFC, paragraphs.
#include <cstddef>
#include <cstdint>

#include "fuzz/document_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera::fuzz::FuzzDocument(tessera::common::v1::DOCUMENT_FORMAT_TEXT, data, size);
  return 0;
}
