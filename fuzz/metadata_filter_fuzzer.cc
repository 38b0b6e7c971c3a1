// Metadata filters as they arrive over gRPC (a serialized tessera.common.v1.Filter):
// compile, then evaluate against documents with every metadata value type.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/metadata_filter.h"
#include "fuzz/fuzz_util.h"
#include "google/protobuf/stubs/logging.h"
#include "tessera/common/v1/common.pb.h"

namespace {

using tessera::common::v1::MetadataValue;

google::protobuf::Map<std::string, MetadataValue> MakeDocument(int variant) {
  google::protobuf::Map<std::string, MetadataValue> metadata;
  metadata["year"].set_int_value(variant == 0 ? 2020 : -1);
  metadata["score"].set_double_value(variant == 0 ? 0.5 : -0.0);
  metadata["lang"].set_string_value(variant == 0 ? "en" : "");
  metadata["draft"].set_bool_value(variant != 0);
  metadata["tags"].mutable_string_list_value()->add_values("a");
  metadata["tags"].mutable_string_list_value()->add_values(variant == 0 ? "b" : "");
  metadata["created"].mutable_timestamp_value()->set_seconds(variant == 0 ? 1700000000 : 0);
  return metadata;
}

}  // namespace

// Invalid UTF-8 in string fields is a parse failure protobuf also logs; the
// log lines would only slow the fuzzer down.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* const documents = new google::protobuf::Map<std::string, MetadataValue>[2] {
    MakeDocument(0), MakeDocument(1)
  };
  tessera::common::v1::Filter filter;
  if (!filter.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<tessera::MetadataFilter> compiled = tessera::MetadataFilter::Compile(filter);
  if (!compiled.ok()) return 0;
  for (int i = 0; i < 2; ++i) {
    const bool matches = compiled->Matches(documents[i]);
    if (compiled->MatchesAll()) TESSERA_FUZZ_CHECK(matches);
  }
  return 0;
}
