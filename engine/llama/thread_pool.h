// A small persistent pool that splits loops over rows across threads. The
// calling thread takes a share too, so a pool of N threads starts N - 1 workers.
// ParallelFor takes an absl::FunctionRef, so calling it allocates nothing (the
// decode loop must not allocate).
#ifndef TESSERA_ENGINE_LLAMA_THREAD_POOL_H_
#define TESSERA_ENGINE_LLAMA_THREAD_POOL_H_

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace tessera::llama {

class ThreadPool {
 public:
  // `num_threads` < 1 is treated as 1 (everything runs on the caller).
  explicit ThreadPool(int num_threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint contiguous ranges covering [0, n), at most
  // one range per thread, ranges aligned to `grain` elements; returns when all
  // are done. Calls from several threads take turns; `fn` must not call
  // ParallelFor on the same pool.
  void ParallelFor(int64_t n, int64_t grain, absl::FunctionRef<void(int64_t, int64_t)> fn);

 private:
  void WorkerLoop(int index);

  std::vector<std::thread> workers_;
  // Serialises ParallelFor calls from different threads (e.g. two sequences).
  absl::Mutex run_mutex_;
  absl::Mutex mutex_;
  // Protected by mutex_.
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  const absl::FunctionRef<void(int64_t, int64_t)>* task_ = nullptr;
  int64_t task_n_ = 0;
  int64_t task_chunk_ = 0;
};

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_THREAD_POOL_H_
