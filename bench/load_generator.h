// Open-loop load against a Tessera server: requests are sent at scheduled
// times (start + i / rate), whatever the answers, so a slow server meets the
// same offered load and latency is measured from the scheduled send time (no
// coordinated omission). Per RPC kind: sent, OK, errors by status code,
// latency percentiles, achieved rate; plus the server's RSS sampled from
// /proc/<pid>/status.
#ifndef TESSERA_BENCH_LOAD_GENERATOR_H_
#define TESSERA_BENCH_LOAD_GENERATOR_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tessera::bench {

// search: Search BM25 (top 10); generate: Generate (max_tokens tokens, greedy);
// agent: StartRun of a retrieve + calculator graph (the run executes in the
// server; the latency is the call's).
inline constexpr const char* kLoadKinds[] = {"search", "generate", "agent"};

struct LoadPhase {
  std::string name;
  double rate = 10;  // requests per second, all kinds together
  absl::Duration duration = absl::Seconds(10);
};

struct LoadOptions {
  std::string target;  // host:port
  std::vector<LoadPhase> phases;
  std::map<std::string, int> mix = {{"search", 70}, {"generate", 20}, {"agent", 10}};
  std::string collection = "load";
  std::vector<std::string> queries;  // search queries and prompts; defaults when empty
  int max_tokens = 16;
  absl::Duration deadline = absl::Seconds(10);
  pid_t server_pid = 0;  // > 0: sample its RSS
  absl::Duration rss_interval = absl::Seconds(1);
  std::string api_key;  // sent as "authorization: Bearer KEY" when set
  uint32_t seed = 1;
};

struct KindReport {
  int64_t sent = 0;
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;  // status code name -> count
  // Latency of OK answers, and of RESOURCE_EXHAUSTED refusals, in ms.
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  double rejected_p99_ms = 0, rejected_max_ms = 0;
  double achieved_rate = 0;  // answered (any status) per second
};

struct PhaseReport {
  std::string name;
  double target_rate = 0;
  double seconds = 0;
  double achieved_rate = 0;  // all kinds, answered per second
  int64_t late_sends = 0;    // sends more than 10 ms behind schedule (generator saturated)
  std::map<std::string, KindReport> kinds;
};

struct RssSample {
  double seconds = 0;  // since the first phase began
  std::string phase;
  int64_t rss_kb = 0;
};

struct LoadReport {
  std::vector<PhaseReport> phases;
  std::vector<RssSample> rss;
};

// "search:70,generate:20,agent:10" -> weights; unknown kinds are an error.
absl::StatusOr<std::map<std::string, int>> ParseMix(const std::string& text);

// Creates what the kinds need on the server: the agent graph "load_agent"
// (over `collection`); idempotent.
absl::Status PrepareServer(const LoadOptions& options);

absl::StatusOr<LoadReport> RunLoad(const LoadOptions& options);

// VmRSS of a process in kB (0 when unreadable).
int64_t ReadRssKb(pid_t pid);

// A Markdown report: a table per phase and the RSS series.
std::string FormatMarkdown(const LoadReport& report);
std::string FormatJson(const LoadReport& report);

}  // namespace tessera::bench

#endif  // TESSERA_BENCH_LOAD_GENERATOR_H_
