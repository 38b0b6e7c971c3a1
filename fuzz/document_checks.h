// Parses fuzzed bytes as one document format and checks the ParsedDocument
// contract (parsed_document.h): valid UTF-8 text, spans inside it, sorted and
// non-overlapping sections and paragraphs, pages in order.
#ifndef TESSERA_FUZZ_DOCUMENT_CHECKS_H_
#define TESSERA_FUZZ_DOCUMENT_CHECKS_H_

#include <cstddef>
#include <cstdint>

#include "tessera/common/v1/common.pb.h"

namespace tessera::fuzz {

void FuzzDocument(common::v1::DocumentFormat format, const uint8_t* data, size_t size);

}  // namespace tessera::fuzz

#endif  // TESSERA_FUZZ_DOCUMENT_CHECKS_H_
