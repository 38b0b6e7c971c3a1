// YAML documents read as JSON values, so that everything users keep in version
// control (agent graphs, eval jobs) may be written in either and is then handled
// by one code path. Plain scalars are typed the YAML 1.2 core-schema way (null,
// true/false, integers, floats, else strings); quoted scalars stay strings.
#ifndef TESSERA_COMMON_YAML_H_
#define TESSERA_COMMON_YAML_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/json.h"

namespace tessera {

// INVALID_ARGUMENT, with line and column, for malformed YAML; anchors and
// aliases are resolved; a mapping key must be a scalar.
absl::StatusOr<Json> ParseYaml(absl::string_view text, absl::string_view what = "YAML");

// JSON when the text's first non-blank character opens an object or array,
// YAML otherwise (JSON is YAML, but this keeps JSON's own error messages).
absl::StatusOr<Json> ParseJsonOrYaml(absl::string_view text, absl::string_view what);

}  // namespace tessera

#endif  // TESSERA_COMMON_YAML_H_
