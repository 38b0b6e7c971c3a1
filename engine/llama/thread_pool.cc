#include "engine/llama/thread_pool.h"

#include <algorithm>

namespace tessera::llama {

ThreadPool::ThreadPool(int num_threads) {
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
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
  const int64_t chunk = (grains + threads - 1) / threads * grain;
  absl::MutexLock run_lock(&run_mutex_);
  {
    absl::MutexLock lock(&mutex_);
    task_ = &fn;
    task_n_ = n;
    task_chunk_ = chunk;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  fn(0, std::min(chunk, n));
  absl::MutexLock lock(&mutex_);
  mutex_.Await(absl::Condition(
      +[](int* pending) { return *pending == 0; }, &pending_));
  task_ = nullptr;
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  while (true) {
    const absl::FunctionRef<void(int64_t, int64_t)>* task;
    int64_t begin, end;
    {
      absl::MutexLock lock(&mutex_);
      auto ready = [&] { return stopping_ || generation_ != seen; };
      mutex_.Await(absl::Condition(&ready));
      if (stopping_) return;
      seen = generation_;
      task = task_;
      begin = std::min(task_n_, index * task_chunk_);
      end = std::min(task_n_, begin + task_chunk_);
    }
    if (begin < end) (*task)(begin, end);
    absl::MutexLock lock(&mutex_);
    --pending_;
  }
}

}  // namespace tessera::llama
