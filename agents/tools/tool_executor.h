// Runs a batch of tool calls in parallel, each with its own timeout and retries.
#ifndef TESSERA_AGENTS_TOOLS_TOOL_EXECUTOR_H_
#define TESSERA_AGENTS_TOOLS_TOOL_EXECUTOR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/json.h"
#include "agents/tools/tool.h"

namespace tessera::agents {

struct ToolInvocation {
  std::shared_ptr<Tool> tool;
  Json arguments;
  std::string tenant;  // The run's tenant (see Tool::InvokeForTenant).
  absl::Duration timeout = absl::Seconds(30);  // Per attempt.
  int max_retries = 0;                        // Extra attempts after the first.
  absl::Duration retry_backoff = absl::Milliseconds(20);  // Doubles per retry.
};

struct ToolOutcome {
  absl::StatusOr<Json> result = absl::UnknownError("not run");
  int attempts = 0;
  absl::Time start;
  absl::Time end;
};

// Invokes every call on its own thread and waits for all. Arguments are
// validated first (an invalid call fails without running). An attempt that
// outlives its timeout is abandoned (its thread finishes in the background and
// its result is dropped) and counts as DEADLINE_EXCEEDED; retryable failures are
// retried. `on_done(i, outcome)` runs on the worker thread as soon as call i has
// its final outcome, so a caller can persist it before the batch completes.
std::vector<ToolOutcome> InvokeToolsInParallel(
    const std::vector<ToolInvocation>& calls,
    const std::function<void(size_t, const ToolOutcome&)>& on_done = nullptr);

// One call with timeout and retries, on the calling thread (attempts on a helper).
ToolOutcome InvokeToolWithRetries(const ToolInvocation& call);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_TOOL_EXECUTOR_H_
