// Validation of tool arguments against the subset of JSON Schema that tool
// declarations use:
//   type (string | number | integer | boolean | object | array | null, or a list
//   of these), properties, required, additionalProperties (boolean), enum,
//   const, minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers),
//   minLength, maxLength (code points), items (one schema), minItems, maxItems.
// Other keywords ("description", "title", "default", ...) are ignored. Errors
// name the JSON path of the offending value, e.g. "$.arguments.limit".
#ifndef TESSERA_AGENTS_TOOLS_JSON_SCHEMA_H_
#define TESSERA_AGENTS_TOOLS_JSON_SCHEMA_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/json.h"

namespace tessera::agents {

// OK when `value` satisfies `schema`; InvalidArgument naming the path otherwise.
absl::Status ValidateAgainstSchema(const Json& schema, const Json& value,
                                   absl::string_view path = "$");

// Checks that a schema only uses the keywords above with well-formed values, so a
// tool's declaration errors surface at registration rather than per call.
absl::Status CheckSchema(const Json& schema, absl::string_view path = "$");

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_JSON_SCHEMA_H_
