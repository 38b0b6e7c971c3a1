#include "agents/tools/tool_executor.h"

#include <atomic>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

class EchoAfter : public Tool {
 public:
  EchoAfter(absl::Duration delay, int failures = 0) : delay_(delay), failures_(failures) {}
  std::string name() const override { return "echo"; }
  std::string description() const override { return "echo"; }
  Json parameters_schema() const override {
    return Json::parse(R"({"type": "object", "properties": {"v": {"type": "integer", "minimum": 0}}, "required": ["v"]})");
  }
  absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time) override {
    absl::SleepFor(delay_);
    if (++calls_ <= failures_) return absl::UnavailableError("flaky");
    return arguments["v"];
  }
  std::atomic<int> calls_{0};

 private:
  absl::Duration delay_;
  int failures_;
};

TEST(ToolExecutorTest, RunsInParallelAndReportsEachOutcome) {
  auto slow = std::make_shared<EchoAfter>(absl::Milliseconds(200));
  std::vector<ToolInvocation> calls(4);
  for (int i = 0; i < 4; ++i) {
    calls[i].tool = slow;
    calls[i].arguments = {{"v", i}};
  }
  calls[3].arguments = {{"v", -1}};  // Fails validation, never runs.
  std::atomic<int> done{0};
  absl::Time start = absl::Now();
  std::vector<ToolOutcome> outcomes = InvokeToolsInParallel(calls, [&](size_t, const ToolOutcome&) { ++done; });
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));  // 3 x 200 ms in parallel.
  EXPECT_EQ(done.load(), 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*outcomes[i].result, i);
  EXPECT_EQ(outcomes[3].result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(outcomes[3].result.status().message(), "$.v: must be >= 0"));
  EXPECT_EQ(slow->calls_.load(), 3);
}

TEST(ToolExecutorTest, TimeoutAndRetry) {
  ToolInvocation call;
  call.tool = std::make_shared<EchoAfter>(absl::Milliseconds(300));
  call.arguments = {{"v", 1}};
  call.timeout = absl::Milliseconds(50);
  call.max_retries = 2;
  ToolOutcome outcome = InvokeToolWithRetries(call);
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_LT(outcome.end - outcome.start, absl::Milliseconds(290));

  auto flaky = std::make_shared<EchoAfter>(absl::ZeroDuration(), 1);
  call.tool = flaky;
  call.timeout = absl::Seconds(1);
  call.max_retries = 1;
  outcome = InvokeToolWithRetries(call);
  EXPECT_EQ(*outcome.result, 1);
  EXPECT_EQ(outcome.attempts, 2);
  call.max_retries = 0;
  flaky->calls_ = 0;
  EXPECT_EQ(InvokeToolWithRetries(call).result.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tessera::agents
