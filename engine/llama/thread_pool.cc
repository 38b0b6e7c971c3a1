#include "engine/llama/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

namespace tessera::llama {
namespace {

using Clock = std::chrono::steady_clock;

// How long an idle worker spins before it sleeps, and how long the caller spins
// waiting for claimed chunks before it starts yielding its core.
constexpr std::chrono::microseconds kSpinTime(500);
// Chunks per thread: enough that a late thread's share is small, few enough
// that claiming them costs nothing. The chunk count must fit 16 bits.
constexpr int64_t kChunksPerThread = 4;

constexpr uint32_t GenerationOf(uint64_t claim) { return static_cast<uint32_t>(claim >> 32); }
constexpr uint32_t ChunksOf(uint64_t claim) { return static_cast<uint32_t>(claim >> 16) & 0xFFFF; }
constexpr uint32_t NextOf(uint64_t claim) { return static_cast<uint32_t>(claim) & 0xFFFF; }

// Spins until `done()` or kSpinTime has passed; true when done.
template <typename Done>
bool SpinUntil(Done done) {
  const Clock::time_point deadline = Clock::now() + kSpinTime;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      _mm_pause();
    }
    if (Clock::now() > deadline) return done();
  }
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&sleep_mutex_);
    stopping_.store(true, std::memory_order_release);
    wake_.SignalAll();
  }
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain,
                             absl::FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t grains = (n + grain - 1) / grain;
  const int threads = static_cast<int>(std::min<int64_t>(num_threads(), grains));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  const int64_t wanted_chunks = std::min(grains, threads * kChunksPerThread);
  const int64_t chunk = (grains + wanted_chunks - 1) / wanted_chunks * grain;
  const uint32_t chunks = static_cast<uint32_t>((n + chunk - 1) / chunk);
  absl::MutexLock run_lock(&run_mutex_);
  task_ = &fn;
  task_n_ = n;
  task_chunk_ = chunk;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t generation = ++generation_;
  claim_.store(static_cast<uint64_t>(generation) << 32 | static_cast<uint64_t>(chunks) << 16,
               std::memory_order_release);
  {
    // A worker that checked claim_ before the store and then took this lock
    // re-checks it under the lock, so no wake-up is lost.
    absl::MutexLock lock(&sleep_mutex_);
    if (sleepers_ > 0) wake_.SignalAll();
  }
  RunChunks(generation);
  // Every chunk is claimed now; wait for the ones other threads are running.
  auto all_done = [&] { return done_.load(std::memory_order_acquire) == chunks; };
  if (!SpinUntil(all_done)) {
    while (!all_done()) std::this_thread::yield();
  }
  task_ = nullptr;
}

void ThreadPool::RunChunks(uint32_t generation) {
  uint64_t claim = claim_.load(std::memory_order_acquire);
  while (GenerationOf(claim) == generation && NextOf(claim) < ChunksOf(claim)) {
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      continue;  // `claim` was reloaded.
    }
    // The task cannot change before this chunk is counted done.
    const int64_t begin = NextOf(claim) * task_chunk_;
    const int64_t end = std::min(task_n_, begin + task_chunk_);
    (*task_)(begin, end);
    done_.fetch_add(1, std::memory_order_release);
    claim = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::WorkerLoop() {
  uint32_t seen = 0;
  while (true) {
    auto changed = [&] {
      return GenerationOf(claim_.load(std::memory_order_acquire)) != seen ||
             stopping_.load(std::memory_order_acquire);
    };
    if (!SpinUntil(changed)) {
      absl::MutexLock lock(&sleep_mutex_);
      ++sleepers_;
      while (!changed()) wake_.Wait(&sleep_mutex_);
      --sleepers_;
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = GenerationOf(claim_.load(std::memory_order_acquire));
    RunChunks(seen);
  }
}

}  // namespace tessera::llama
