// The serving engine: continuous batching of generation requests over one
// model. It owns a ModelExecutor (CPU or CUDA), the KV block manager and the
// scheduler, and runs them in a step-loop thread: every step the scheduler
// picks the sequences and tokens to run, the executor runs them in one batch,
// and each sequence whose prompt is done samples its next token with its own
// llama::TokenSelector (so a request gives the tokens LlamaModel::Generate
// gives it, seeded sampling included). Tokens stream through a per-request
// callback with their timings. Optional speculative decoding by n-gram prompt
// lookup proposes tokens that one step verifies (output unchanged).
#ifndef TESSERA_ENGINE_SERVING_SERVING_ENGINE_H_
#define TESSERA_ENGINE_SERVING_SERVING_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/llama/llama_model.h"
#include "engine/serving/block_manager.h"
#include "engine/serving/model_executor.h"
#include "engine/serving/scheduler.h"

namespace tessera::serving {

struct ServingOptions {
  int max_batch_tokens = 256;
  int max_running = 64;
  bool prefix_caching = true;
  // Tokens proposed per decode step by n-gram prompt lookup; 0 = off.
  int speculative_tokens = 0;
  // Longest n-gram matched against earlier text (shorter ones are tried next).
  int speculative_ngram = 3;
  // Prometheus metrics in MetricsRegistry::Global() (off in tests that make
  // many engines).
  bool export_metrics = true;
};

// A streamed token and when it came.
struct StreamedToken {
  llama::GeneratedToken token;
  int index = 0;              // 0 for the first generated token.
  double since_submit_ms = 0; // For the first token: the time to first token.
  double since_previous_ms = 0;
};

struct Completion {
  absl::Status status;             // Not OK when the executor failed.
  llama::GenerationResult result;  // finish_reason as LlamaModel::Generate;
                                   // a passed deadline also reads "cancelled".
  bool deadline_exceeded = false;
  double queue_ms = 0;   // Submission to first scheduled step.
  double ttft_ms = 0;    // Submission to first token.
  double tpot_ms = 0;    // Mean time per token after the first.
  double total_ms = 0;
  int prefix_cached_tokens = 0;
  int preemptions = 0;
  int speculative_accepted = 0;  // Proposed tokens that verification kept.
};

// Returning false cancels the request.
using StreamCallback = std::function<bool(const StreamedToken&)>;

struct SubmitOptions {
  absl::Time deadline = absl::InfiniteFuture();
  StreamCallback on_token;  // Called on the engine's thread; keep it short.
};

class ServingEngine;

// A submitted request.
class ServingRequest {
 public:
  // Stops the request at the next step (its blocks are freed); it completes
  // with finish_reason "cancelled".
  void Cancel() { sequence_.cancel_requested.store(true); }
  // Blocks until the request completes.
  Completion Wait();
  // Waits up to `timeout`; true when the request has completed.
  bool WaitFor(absl::Duration timeout);
  bool done() const;

 private:
  friend class ServingEngine;
  Sequence sequence_;
  std::unique_ptr<llama::TokenSelector> selector_;
  SubmitOptions submit_;
  int capacity_ = 0;  // Positions it may fill: min(prompt + max_tokens, context).
  absl::Time submitted_;
  absl::Time first_scheduled_ = absl::InfinitePast();
  absl::Time first_token_ = absl::InfinitePast();
  absl::Time previous_token_;
  mutable absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  Completion completion_ ABSL_GUARDED_BY(mu_);
};

// Engine-wide figures (a snapshot).
struct ServingStats {
  int waiting = 0;
  int running = 0;
  int kv_blocks_used = 0;
  int kv_blocks_free = 0;    // Empty blocks.
  int kv_blocks_cached = 0;  // Unreferenced blocks keeping a cached prefix.
  int64_t steps = 0;
  int64_t generated_tokens = 0;
  int64_t preemptions = 0;
  int64_t prefix_hit_tokens = 0;
  int64_t speculative_proposed = 0;
  int64_t speculative_accepted = 0;
  // Mean over steps of wasted / used KV slots (slots of used blocks holding no token).
  double kv_wasted_fraction = 0;
  double tokens_per_second = 0;  // Generated tokens over the last few seconds.
};

class ServingEngine {
 public:
  // Starts the step loop. INVALID_ARGUMENT for options out of range.
  static absl::StatusOr<std::unique_ptr<ServingEngine>> Create(
      const llama::LlamaModel& model, std::unique_ptr<ModelExecutor> executor,
      ServingOptions options = {});
  // Cancels what is left and joins the loop.
  ~ServingEngine();

  // Queues a request. Errors as LlamaModel::Generate (bad options, empty or
  // too long prompt), RESOURCE_EXHAUSTED when it could never fit the KV pool,
  // UNAVAILABLE after shutdown.
  absl::StatusOr<std::shared_ptr<ServingRequest>> Submit(absl::Span<const int32_t> prompt_ids,
                                                         const llama::SamplingOptions& options,
                                                         SubmitOptions submit = {});
  // Submit and Wait.
  absl::StatusOr<Completion> Generate(absl::Span<const int32_t> prompt_ids,
                                      const llama::SamplingOptions& options,
                                      SubmitOptions submit = {});

  ServingStats stats() const;
  const ModelExecutor& executor() const { return *executor_; }

 private:
  ServingEngine(const llama::LlamaModel& model, std::unique_ptr<ModelExecutor> executor,
                ServingOptions options);
  void Loop();
  // One scheduler step; false when there was nothing to run.
  bool Step();
  // Ends a request and removes it from the engine.
  void Complete(ServingRequest* request, absl::Status status, const char* reason);
  // Feeds one logits row to the request's selector and streams the token;
  // true when the request ended with it.
  bool EmitToken(ServingRequest* request, absl::Span<const float> logits, bool context_full,
                 absl::Time now);
  // n-gram prompt lookup: up to `limit` tokens that followed the latest
  // earlier occurrence of the sequence's last n tokens.
  std::vector<int32_t> Propose(const std::vector<int32_t>& tokens, int limit) const;
  void PublishStats();

  const llama::LlamaModel& model_;
  std::unique_ptr<ModelExecutor> executor_;
  const ServingOptions options_;
  BlockManager blocks_;
  Scheduler scheduler_;
  // Requests the loop owns, by sequence id.
  absl::flat_hash_map<int64_t, std::shared_ptr<ServingRequest>> active_;

  mutable absl::Mutex mu_;
  absl::CondVar wake_;
  std::deque<std::shared_ptr<ServingRequest>> incoming_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  ServingStats stats_ ABSL_GUARDED_BY(mu_);
  double wasted_sum_ = 0;  // Loop thread only.
  int64_t wasted_samples_ = 0;
  std::deque<std::pair<absl::Time, int64_t>> rate_window_;  // (time, generated so far).
  int64_t exported_tokens_ = 0;  // Generated tokens already counted in the metrics.
  std::vector<float> logits_;
  std::thread loop_;
};

}  // namespace tessera::serving

#endif  // TESSERA_ENGINE_SERVING_SERVING_ENGINE_H_
