#include "engine/llama/thread_pool.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::llama {
namespace {

TEST(ThreadPoolTest, EveryIndexRunsExactlyOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {0, 1, 5, 16, 1000, 1001}) {
      for (int64_t grain : {1, 8, 64}) {
        std::vector<std::atomic<int>> hits(n);
        pool.ParallelFor(n, grain, [&](int64_t begin, int64_t end) {
          EXPECT_EQ(begin % grain, 0);
          for (int64_t i = begin; i < end; ++i) hits[i]++;
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << n;
      }
    }
  }
}

TEST(ThreadPoolTest, UsesSeveralThreads) {
  ThreadPool pool(2);
  std::atomic<int> started{0};
  std::vector<std::thread::id> ids(2);
  // Each range waits until both have started: only possible when two threads run
  // them (a thread busy with one range cannot claim the other).
  pool.ParallelFor(2, 1, [&](int64_t begin, int64_t end) {
    ids[begin] = std::this_thread::get_id();
    started++;
    while (started.load() < 2) std::this_thread::yield();
  });
  EXPECT_EQ(started.load(), 2);
  EXPECT_NE(ids[0], ids[1]);
}

TEST(ThreadPoolTest, BackToBackCallsCoverEveryIndexOnce) {
  // Decode's pattern: many short calls in a row, so workers often arrive after
  // the caller took most chunks, or while it is publishing the next call.
  ThreadPool pool(2);
  for (int round = 0; round < 100; ++round) {
    std::vector<std::atomic<int>> hits(64);
    pool.ParallelFor(64, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) hits[i]++;
    });
    for (int i = 0; i < 64; ++i) ASSERT_EQ(hits[i].load(), 1) << round;
  }
}

TEST(ThreadPoolTest, CallsFromSeveralThreadsTakeTurns) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        pool.ParallelFor(100, 10, [&](int64_t begin, int64_t end) { total += end - begin; });
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(total.load(), 4 * 50 * 100);
}

TEST(ThreadPoolTest, NonPositiveThreadCountRunsOnCaller) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.num_threads(), 1);
  int64_t covered = 0;
  pool.ParallelFor(10, 1, [&](int64_t begin, int64_t end) { covered += end - begin; });
  EXPECT_EQ(covered, 10);
}

}  // namespace
}  // namespace tessera::llama
