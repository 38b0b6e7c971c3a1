// Continuous batching (after vLLM's scheduler): a waiting and a running queue;
// every step first gives each running sequence its next tokens (a decode token
// or the next chunk of its prompt), then admits waiting sequences while KV
// blocks and the step's token budget allow, splitting long prompts across
// steps (chunked prefill). When blocks run out the newest running sequence is
// preempted by recompute: its blocks are freed and it goes back to the front
// of the queue with the tokens it generated, to be prefilled again later.
// Cancelled and expired sequences leave at the next step. Not thread-safe.
#ifndef TESSERA_ENGINE_SERVING_SCHEDULER_H_
#define TESSERA_ENGINE_SERVING_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/time/time.h"
#include "engine/serving/block_manager.h"

namespace tessera::serving {

struct SchedulerConfig {
  // Tokens run in one step, all sequences together (decode tokens and prefill
  // chunks); bounds the step's latency.
  int max_batch_tokens = 256;
  // Sequences in the running batch.
  int max_running = 64;
};

// One request's tokens as the scheduler sees them.
struct Sequence {
  int64_t id = 0;
  // The prompt followed by the generated tokens. The KV of the first
  // `num_computed` is in the cache; the rest run in coming steps.
  std::vector<int32_t> tokens;
  int num_computed = 0;
  absl::Time deadline = absl::InfiniteFuture();
  // Set from any thread; the sequence leaves at the next step.
  std::atomic<bool> cancel_requested{false};
  // Why it left early: "cancelled" or "deadline" (set by Schedule).
  const char* drop_reason = nullptr;
  int preemptions = 0;
  int prefix_cached_tokens = 0;  // Tokens the prefix cache served at admission.

  int pending() const { return static_cast<int>(tokens.size()) - num_computed; }
};

struct ScheduledSequence {
  Sequence* sequence = nullptr;
  // Runs tokens [num_computed, num_computed + num_tokens).
  int num_tokens = 0;
};

struct SchedulerOutput {
  std::vector<ScheduledSequence> scheduled;
  // Sequences dropped this step (cancelled or past their deadline), blocks freed.
  std::vector<Sequence*> dropped;
  // Copy-on-write block copies to do before the step.
  BlockCopies copies;
  int preempted = 0;
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig config, BlockManager* blocks) : config_(config), blocks_(blocks) {}

  // Queues a sequence (not owned; it must live until finished or dropped).
  void Add(Sequence* sequence) { waiting_.push_back(sequence); }
  SchedulerOutput Schedule(absl::Time now);
  // A running sequence is done: its blocks are freed and it leaves the batch.
  void Finish(Sequence* sequence);

  int num_waiting() const { return static_cast<int>(waiting_.size()); }
  int num_running() const { return static_cast<int>(running_.size()); }
  bool empty() const { return waiting_.empty() && running_.empty(); }

 private:
  void Preempt(Sequence* sequence);
  // Reserves block slots for the tokens the sequence runs in this step.
  bool ReserveSlots(Sequence* sequence, int num_tokens, BlockCopies* copies);

  SchedulerConfig config_;
  BlockManager* blocks_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // In admission order: the newest last.
};

}  // namespace tessera::serving

#endif  // TESSERA_ENGINE_SERVING_SCHEDULER_H_
