#include "agents/tools/tool_executor.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tessera::agents {

namespace {

// Shared between the waiting caller and a worker that may outlive the wait.
struct AttemptState {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  absl::StatusOr<Json> result = absl::UnknownError("not run");
};

absl::StatusOr<Json> RunAttempt(const ToolInvocation& call) {
  auto state = std::make_shared<AttemptState>();
  absl::Time deadline = absl::Now() + call.timeout;
  std::shared_ptr<Tool> tool = call.tool;
  Json arguments = call.arguments;
  std::string tenant = call.tenant;
  std::thread worker([state, tool, arguments, tenant, deadline] {
    absl::StatusOr<Json> result = absl::UnknownError("tool did not return");
    try {
      result = tool->InvokeForTenant(tenant, arguments, deadline);
    } catch (const std::exception& e) {
      result = absl::InternalError(absl::StrCat("tool '", tool->name(), "' threw: ", e.what()));
    } catch (...) {
      result = absl::InternalError(absl::StrCat("tool '", tool->name(), "' threw"));
    }
    std::lock_guard<std::mutex> lock(state->mu);
    state->result = std::move(result);
    state->done = true;
    state->done_cv.notify_all();
  });
  worker.detach();
  std::unique_lock<std::mutex> lock(state->mu);
  bool finished = state->done_cv.wait_for(lock, absl::ToChronoMilliseconds(call.timeout),
                                          [&] { return state->done; });
  if (!finished) {
    return absl::DeadlineExceededError(absl::StrCat("tool '", tool->name(), "' timed out after ",
                                                    absl::FormatDuration(call.timeout)));
  }
  return state->result;
}

}  // namespace

ToolOutcome InvokeToolWithRetries(const ToolInvocation& call) {
  ToolOutcome outcome;
  outcome.start = absl::Now();
  if (call.tool == nullptr) {
    outcome.result = absl::NotFoundError("no such tool");
    outcome.end = absl::Now();
    return outcome;
  }
  absl::Status valid = ValidateToolArguments(*call.tool, call.arguments);
  if (!valid.ok()) {
    outcome.result = valid;
    outcome.end = absl::Now();
    return outcome;
  }
  absl::Duration backoff = call.retry_backoff;
  for (int attempt = 0; attempt <= std::max(0, call.max_retries); ++attempt) {
    if (attempt > 0) {
      absl::SleepFor(backoff);
      backoff = backoff * 2;
    }
    ++outcome.attempts;
    outcome.result = RunAttempt(call);
    if (outcome.result.ok() || !IsRetryableToolError(outcome.result.status())) break;
  }
  if (!outcome.result.ok() && outcome.attempts > 1) {
    outcome.result = absl::Status(outcome.result.status().code(),
                                  absl::StrCat(outcome.result.status().message(), " (after ",
                                               outcome.attempts, " attempts)"));
  }
  outcome.end = absl::Now();
  return outcome;
}

std::vector<ToolOutcome> InvokeToolsInParallel(
    const std::vector<ToolInvocation>& calls,
    const std::function<void(size_t, const ToolOutcome&)>& on_done) {
  std::vector<ToolOutcome> outcomes(calls.size());
  std::vector<std::thread> threads;
  threads.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    threads.emplace_back([&, i] {
      outcomes[i] = InvokeToolWithRetries(calls[i]);
      if (on_done) on_done(i, outcomes[i]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  return outcomes;
}

}  // namespace tessera::agents
