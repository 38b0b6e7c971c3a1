#include "engine/serving/scheduler.h"

#include <algorithm>

namespace tessera::serving {

void Scheduler::Preempt(Sequence* sequence) {
  blocks_->Free(sequence->id);
  sequence->num_computed = 0;  // Recompute: prompt and generated tokens run again.
  ++sequence->preemptions;
  running_.erase(std::find(running_.begin(), running_.end(), sequence));
  waiting_.push_front(sequence);
}

void Scheduler::Finish(Sequence* sequence) {
  blocks_->Free(sequence->id);
  auto it = std::find(running_.begin(), running_.end(), sequence);
  if (it != running_.end()) running_.erase(it);
}

bool Scheduler::ReserveSlots(Sequence* sequence, int num_tokens, BlockCopies* copies) {
  const int have = blocks_->NumTokens(sequence->id);
  const int end = sequence->num_computed + num_tokens;
  if (end <= have) return true;
  absl::Span<const int32_t> more =
      absl::MakeConstSpan(sequence->tokens).subspan(have, end - have);
  return blocks_->Append(sequence->id, more, copies).ok();
}

SchedulerOutput Scheduler::Schedule(absl::Time now) {
  SchedulerOutput out;
  auto drop = [&](Sequence* sequence) {
    const bool cancelled = sequence->cancel_requested.load(std::memory_order_relaxed);
    if (!cancelled && sequence->deadline > now) return false;
    sequence->drop_reason = cancelled ? "cancelled" : "deadline";
    blocks_->Free(sequence->id);
    out.dropped.push_back(sequence);
    return true;
  };
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), drop), waiting_.end());
  running_.erase(std::remove_if(running_.begin(), running_.end(), drop), running_.end());

  int budget = config_.max_batch_tokens;
  // Running sequences first, oldest first; blocks for them come from the
  // newest ones when short.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* sequence = running_[i];
    const int want = std::min(sequence->pending(), budget);
    if (want <= 0) {
      ++i;
      continue;
    }
    bool preempted_self = false;
    while (!ReserveSlots(sequence, want, &out.copies)) {
      Sequence* victim = running_.back();
      Preempt(victim);
      ++out.preempted;
      if (victim == sequence) {
        preempted_self = true;
        break;
      }
    }
    if (preempted_self) break;  // It was the newest: nothing after it is left.
    out.scheduled.push_back({sequence, want});
    budget -= want;
    ++i;
  }
  // Then new (and preempted) sequences, unless this step had to preempt.
  while (out.preempted == 0 && budget > 0 && !waiting_.empty() &&
         static_cast<int>(running_.size()) < config_.max_running) {
    Sequence* sequence = waiting_.front();
    if (!blocks_->CanAllocate(sequence->tokens)) break;  // FIFO: no overtaking.
    absl::StatusOr<int> cached = blocks_->Allocate(sequence->id, sequence->tokens, &out.copies);
    if (!cached.ok()) break;
    sequence->num_computed = *cached;
    if (sequence->preemptions == 0) sequence->prefix_cached_tokens = *cached;
    waiting_.pop_front();
    running_.push_back(sequence);
    const int want = std::min(sequence->pending(), budget);
    out.scheduled.push_back({sequence, want});
    budget -= want;
  }
  return out;
}

}  // namespace tessera::serving
