// Agent graph definitions: JSON (protobuf JSON mapping) -> message -> compiled
// graph with every template and expression parsed. What parses must print back
// to JSON that parses again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "agents/graph.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<tessera::agents::v1::Graph> graph =
      tessera::agents::ParseGraphDefinition(tessera::fuzz::AsStringView(data, size));
  if (!graph.ok()) return 0;
  const tessera::agents::GraphValidationContext context;
  (void)tessera::agents::CompileGraph(*graph, context);
  const std::string json = tessera::agents::GraphToJson(*graph);
  absl::StatusOr<tessera::agents::v1::Graph> again = tessera::agents::ParseGraphDefinition(json);
  TESSERA_FUZZ_CHECK(again.ok());
  return 0;
}
