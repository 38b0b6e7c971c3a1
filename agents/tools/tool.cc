#include "agents/tools/tool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "agents/tools/json_schema.h"

namespace tessera::agents {

absl::Status ToolRegistry::Register(std::shared_ptr<Tool> tool) {
  if (tool == nullptr) return absl::InvalidArgumentError("null tool");
  std::string name = tool->name();
  if (name.empty()) return absl::InvalidArgumentError("a tool has an empty name");
  absl::Status schema = CheckSchema(tool->parameters_schema());
  if (!schema.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tool '", name, "' parameter schema: ", schema.message()));
  }
  if (!tools_.emplace(name, std::move(tool)).second) {
    return absl::AlreadyExistsError(absl::StrCat("tool '", name, "' is already registered"));
  }
  return absl::OkStatus();
}

std::shared_ptr<Tool> ToolRegistry::Find(const std::string& name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : it->second;
}

std::vector<std::string> ToolRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, tool] : tools_) names.push_back(name);
  return names;
}

absl::Status ValidateToolArguments(const Tool& tool, const Json& arguments) {
  absl::Status status = ValidateAgainstSchema(tool.parameters_schema(), arguments, "$");
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("arguments of tool '", tool.name(), "': ", status.message()));
  }
  return absl::OkStatus();
}

bool IsRetryableToolError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

}  // namespace tessera::agents
