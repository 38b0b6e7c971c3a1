#include "agents/tools/tool_call_parser.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tessera::agents {

namespace {

// Finds the end of the balanced JSON value starting at `start` ('{' or '['),
// honouring strings and escapes. Returns npos when unbalanced.
size_t FindBalancedEnd(absl::string_view text, size_t start) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = start; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
      if (depth < 0) return absl::string_view::npos;
    }
  }
  return absl::string_view::npos;
}

const Json* FindKey(const Json& object, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it != object.end()) return &*it;
  }
  return nullptr;
}

// Converts one candidate object; returns false when it is not a tool call at all.
bool ToCall(const Json& object, ParsedToolCall* call, std::string* error) {
  if (!object.is_object()) return false;
  const Json* function = FindKey(object, {"function"});
  const Json& source = (function != nullptr && function->is_object()) ? *function : object;
  const Json* name = FindKey(source, {"tool", "name", "tool_name"});
  if (name == nullptr || !name->is_string()) return false;
  call->name = name->get<std::string>();
  if (call->name.empty()) {
    *error = "tool call with an empty name";
    return true;
  }
  if (const Json* id = FindKey(object, {"id"}); id != nullptr && id->is_string()) {
    call->id = id->get<std::string>();
  }
  const Json* arguments = FindKey(source, {"arguments", "args", "parameters", "input"});
  if (arguments == nullptr || arguments->is_null()) {
    call->arguments = Json::object();
  } else if (arguments->is_string()) {
    Json parsed = Json::parse(arguments->get<std::string>(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      *error = absl::StrCat("tool call '", call->name, "': arguments string is not a JSON object");
      return true;
    }
    call->arguments = std::move(parsed);
  } else if (arguments->is_object()) {
    call->arguments = *arguments;
  } else {
    *error = absl::StrCat("tool call '", call->name, "': arguments must be an object, got ",
                          JsonTypeName(*arguments));
    return true;
  }
  return true;
}

// Appends the calls found in one parsed JSON value; true if it held any call.
bool CollectCalls(const Json& value, ParsedReply* reply) {
  bool found = false;
  auto take = [&](const Json& candidate) {
    ParsedToolCall call;
    std::string error;
    if (!ToCall(candidate, &call, &error)) return;
    found = true;
    if (!error.empty()) {
      reply->errors.push_back(error);
      return;
    }
    reply->calls.push_back(std::move(call));
  };
  if (value.is_array()) {
    for (const Json& item : value) take(item);
  } else if (value.is_object()) {
    const Json* list = FindKey(value, {"tool_calls", "calls"});
    if (list != nullptr && list->is_array()) {
      for (const Json& item : *list) take(item);
      found = true;
    } else {
      take(value);
    }
  }
  return found;
}

}  // namespace

ParsedReply ParseToolCalls(absl::string_view text) {
  ParsedReply reply;
  std::string prose;
  size_t copied = 0;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '{' && c != '[') {
      ++i;
      continue;
    }
    size_t end = FindBalancedEnd(text, i);
    if (end == absl::string_view::npos) {
      // An unbalanced object that mentions a tool is reported; other braces are prose.
      absl::string_view rest = text.substr(i);
      if (c == '{' && (rest.find("\"tool\"") != absl::string_view::npos ||
                       rest.find("\"name\"") != absl::string_view::npos)) {
        reply.errors.push_back("unterminated JSON object in a tool call");
      }
      break;
    }
    absl::string_view candidate = text.substr(i, end - i);
    Json parsed = Json::parse(candidate.begin(), candidate.end(), nullptr, false);
    if (parsed.is_discarded()) {
      if (c == '{' && candidate.find("\"tool\"") != absl::string_view::npos) {
        reply.errors.push_back(absl::StrCat("malformed tool call JSON: ", candidate.substr(0, 120)));
        i = end;
        continue;
      }
      ++i;  // Maybe a valid object starts further in.
      continue;
    }
    if (CollectCalls(parsed, &reply)) {
      absl::StrAppend(&prose, text.substr(copied, i - copied));
      copied = end;
    }
    i = end;
  }
  absl::StrAppend(&prose, text.substr(copied));
  // Drop fences left empty by removing the JSON they held.
  for (const char* fence : {"```json\n\n```", "```json\n```", "```json```", "```\n\n```", "```\n```", "``````"}) {
    absl::StrReplaceAll({{fence, ""}}, &prose);
  }
  reply.prose = std::string(absl::StripAsciiWhitespace(prose));
  for (size_t n = 0; n < reply.calls.size(); ++n) {
    if (reply.calls[n].id.empty()) reply.calls[n].id = absl::StrCat("call_", n + 1);
  }
  return reply;
}

}  // namespace tessera::agents
