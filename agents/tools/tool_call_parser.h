// Extracts tool calls from free-form model output. Accepted shapes, anywhere in
// the text (bare, inside ```json fences, or surrounded by prose), several per reply:
//   {"tool": "calculator", "arguments": {"expression": "2+2"}}
//   {"name": "search", "arguments": {...}}        ("args"/"parameters"/"input" too)
//   {"name": "x", "arguments": "{\"a\": 1}"}      (arguments as a JSON string)
//   [{"tool": ...}, {"tool": ...}]                (a list of calls)
//   {"tool_calls": [{"function": {"name": ..., "arguments": ...}}, ...]}
// A JSON object without a tool name is ignored (it may be ordinary output).
#ifndef TESSERA_AGENTS_TOOLS_TOOL_CALL_PARSER_H_
#define TESSERA_AGENTS_TOOLS_TOOL_CALL_PARSER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"

namespace tessera::agents {

struct ParsedToolCall {
  std::string id;  // From the model if given, else "call_<n>".
  std::string name;
  Json arguments = Json::object();
};

struct ParsedReply {
  std::vector<ParsedToolCall> calls;
  // The text with the tool-call JSON (and emptied fences) removed, trimmed.
  std::string prose;
  // Fragments that looked like tool calls but could not be used, with the reason
  // (fed back to the model as an observation).
  std::vector<std::string> errors;
};

ParsedReply ParseToolCalls(absl::string_view text);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_TOOL_CALL_PARSER_H_
