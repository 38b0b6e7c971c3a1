// The tool interface of the agent runtime and the registry nodes look tools up in.
#ifndef TESSERA_AGENTS_TOOLS_TOOL_H_
#define TESSERA_AGENTS_TOOLS_TOOL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/json.h"

namespace tessera::agents {

// A function an agent may call. Implementations must be thread-safe: calls from
// one step run in parallel, and a call that timed out may still be running when
// the next one starts.
class Tool {
 public:
  virtual ~Tool() = default;

  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // JSON Schema of the arguments object (see json_schema.h for the subset).
  virtual Json parameters_schema() const = 0;
  // JSON type of a successful result: "string", "number", "object", "array",
  // "boolean" or "any". Graph validation checks it against output channels.
  virtual std::string result_type() const { return "any"; }

  // Runs the tool. Arguments were validated against parameters_schema(). Should
  // give up by `deadline` (the executor stops waiting then anyway).
  virtual absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time deadline) = 0;
  // Invoke on behalf of `tenant` (the run's). Tools that read tenant data
  // (search) override this to stay inside the tenant; the rest ignore it.
  virtual absl::StatusOr<Json> InvokeForTenant(const std::string& tenant, const Json& arguments,
                                               absl::Time deadline) {
    return Invoke(arguments, deadline);
  }
};

// Tools by name. Register everything before runs start; lookups are then
// read-only and safe from several threads.
class ToolRegistry {
 public:
  // Fails on an empty or duplicate name or an ill-formed parameter schema.
  absl::Status Register(std::shared_ptr<Tool> tool);
  std::shared_ptr<Tool> Find(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::shared_ptr<Tool>> tools_;
};

// Validates `arguments` against the tool's schema; the error names the tool.
absl::Status ValidateToolArguments(const Tool& tool, const Json& arguments);

// Statuses worth retrying: the call may succeed if repeated.
bool IsRetryableToolError(const absl::Status& status);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_TOOL_H_
