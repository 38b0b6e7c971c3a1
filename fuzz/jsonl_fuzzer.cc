// JSON Lines ingestion: BEIR-style records read one per line (JsonlReader, which
// goes on after a bad record), and a whole input as one JSON document.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "fuzz/document_checks.h"
#include "fuzz/fuzz_util.h"
#include "ingest/parse/json_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream input(std::string(reinterpret_cast<const char*>(data), size));
  tessera::ingest::JsonlReader reader(&input);
  tessera::ingest::JsonRecord record;
  // Each call consumes at least one line, so a reader that does not end after
  // size + 1 calls is looping.
  size_t calls = 0;
  for (;;) {
    TESSERA_FUZZ_CHECK(++calls <= size + 2);
    absl::StatusOr<bool> next = reader.Next(&record);
    if (next.ok() && !*next) break;
  }
  tessera::fuzz::FuzzDocument(tessera::common::v1::DOCUMENT_FORMAT_JSON, data, size);
  return 0;
}
