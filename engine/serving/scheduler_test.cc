#include "engine/serving/scheduler.h"

#include <memory>
#include <numeric>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::serving {
namespace {

std::unique_ptr<Sequence> MakeSequence(int64_t id, int prompt_tokens) {
  auto sequence = std::make_unique<Sequence>();
  sequence->id = id;
  sequence->tokens.resize(prompt_tokens);
  std::iota(sequence->tokens.begin(), sequence->tokens.end(), static_cast<int32_t>(id * 1000));
  return sequence;
}

// What the engine does after a step: the scheduled tokens are computed, and a
// sequence whose tokens all ran gets a new one.
void RunStep(const SchedulerOutput& out, BlockManager* blocks) {
  for (const ScheduledSequence& s : out.scheduled) {
    s.sequence->num_computed += s.num_tokens;
    blocks->MarkComputed(s.sequence->id, s.sequence->num_computed);
    if (s.sequence->pending() == 0) s.sequence->tokens.push_back(7);
  }
}

TEST(SchedulerTest, AdmissionIsBoundedByKvBlocks) {
  BlockManager blocks(4, 4);
  Scheduler scheduler({/*max_batch_tokens=*/64, /*max_running=*/8}, &blocks);
  auto a = MakeSequence(1, 6), b = MakeSequence(2, 6), c = MakeSequence(3, 6);
  scheduler.Add(a.get());
  scheduler.Add(b.get());
  scheduler.Add(c.get());
  SchedulerOutput out = scheduler.Schedule(absl::Now());
  ASSERT_EQ(out.scheduled.size(), 2u);  // Two blocks each; the third waits.
  EXPECT_EQ(out.scheduled[0].num_tokens, 6);
  EXPECT_EQ(scheduler.num_running(), 2);
  EXPECT_EQ(scheduler.num_waiting(), 1);
  RunStep(out, &blocks);
  scheduler.Finish(a.get());
  out = scheduler.Schedule(absl::Now());
  EXPECT_EQ(scheduler.num_running(), 2);  // c took a's blocks.
  EXPECT_EQ(scheduler.num_waiting(), 0);
}

TEST(SchedulerTest, LongPromptsArePrefilledInChunksBesideDecodes) {
  BlockManager blocks(32, 4);
  Scheduler scheduler({/*max_batch_tokens=*/8, /*max_running=*/8}, &blocks);
  auto short_one = MakeSequence(1, 3), long_one = MakeSequence(2, 20);
  scheduler.Add(short_one.get());
  scheduler.Add(long_one.get());
  SchedulerOutput out = scheduler.Schedule(absl::Now());
  ASSERT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(out.scheduled[0].num_tokens, 3);
  EXPECT_EQ(out.scheduled[1].num_tokens, 5);  // The rest of the budget.
  RunStep(out, &blocks);
  out = scheduler.Schedule(absl::Now());
  ASSERT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(out.scheduled[0].num_tokens, 1);  // short_one decodes...
  EXPECT_EQ(out.scheduled[1].num_tokens, 7);  // ...while long_one prefills.
  RunStep(out, &blocks);
  out = scheduler.Schedule(absl::Now());
  EXPECT_EQ(out.scheduled[1].num_tokens, 7);
  RunStep(out, &blocks);
  out = scheduler.Schedule(absl::Now());
  EXPECT_EQ(out.scheduled[1].num_tokens, 1);  // Prompt done (20 = 5 + 7 + 7 + 1).
  EXPECT_EQ(long_one->num_computed, 19);
}

TEST(SchedulerTest, PreemptsTheNewestSequenceInsteadOfFailing) {
  BlockManager blocks(4, 4, /*prefix_caching=*/false);
  Scheduler scheduler({/*max_batch_tokens=*/64, /*max_running=*/8}, &blocks);
  auto a = MakeSequence(1, 7), b = MakeSequence(2, 7);
  scheduler.Add(a.get());
  scheduler.Add(b.get());
  int preempted = 0;
  for (int step = 0; step < 6 && preempted == 0; ++step) {
    SchedulerOutput out = scheduler.Schedule(absl::Now());
    preempted += out.preempted;
    RunStep(out, &blocks);
  }
  EXPECT_EQ(preempted, 1);
  EXPECT_EQ(b->preemptions, 1);  // The newest went back to the queue...
  EXPECT_EQ(a->preemptions, 0);
  EXPECT_EQ(b->num_computed, 0);  // ...to be recomputed with what it generated.
  EXPECT_GT(b->tokens.size(), 7u);
  EXPECT_EQ(scheduler.num_waiting(), 1);
  EXPECT_FALSE(blocks.Has(2));
  scheduler.Finish(a.get());
  SchedulerOutput out = scheduler.Schedule(absl::Now());
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.scheduled[0].sequence, b.get());
  EXPECT_EQ(out.scheduled[0].num_tokens, static_cast<int>(b->tokens.size()));
}

TEST(SchedulerTest, CancelledAndExpiredSequencesLeaveAndFreeTheirBlocks) {
  BlockManager blocks(8, 4);
  Scheduler scheduler({64, 8}, &blocks);
  auto a = MakeSequence(1, 5), b = MakeSequence(2, 5), c = MakeSequence(3, 5);
  scheduler.Add(a.get());
  scheduler.Add(b.get());
  SchedulerOutput out = scheduler.Schedule(absl::Now());
  RunStep(out, &blocks);
  EXPECT_EQ(blocks.used_blocks(), 4);
  a->cancel_requested = true;
  c->deadline = absl::Now() - absl::Seconds(1);
  scheduler.Add(c.get());
  out = scheduler.Schedule(absl::Now());
  ASSERT_EQ(out.dropped.size(), 2u);
  EXPECT_STREQ(a->drop_reason, "cancelled");
  EXPECT_STREQ(c->drop_reason, "deadline");
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.scheduled[0].sequence, b.get());
  EXPECT_FALSE(blocks.Has(1));
  EXPECT_EQ(scheduler.num_running(), 1);
  EXPECT_EQ(scheduler.num_waiting(), 0);
}

TEST(SchedulerTest, RespectsTheRunningLimit) {
  BlockManager blocks(64, 4);
  Scheduler scheduler({64, 2}, &blocks);
  std::vector<std::unique_ptr<Sequence>> sequences;
  for (int i = 0; i < 5; ++i) {
    sequences.push_back(MakeSequence(i + 1, 3));
    scheduler.Add(sequences.back().get());
  }
  SchedulerOutput out = scheduler.Schedule(absl::Now());
  EXPECT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(scheduler.num_waiting(), 3);
}

}  // namespace
}  // namespace tessera::serving
