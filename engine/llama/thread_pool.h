// A small persistent pool that splits loops over rows across threads. The
// calling thread takes a share too, so a pool of N threads starts N - 1 workers.
// ParallelFor takes an absl::FunctionRef, so calling it allocates nothing (the
// decode loop must not allocate). Decode calls ParallelFor a hundred times per
// token, each call a fraction of a millisecond, so:
//  - idle workers spin briefly on an atomic before they sleep (a futex wake-up
//    per call would cost more than the work it hands out);
//  - the range is cut into a few chunks per thread that threads claim as they
//    go, so a worker the OS has not scheduled (a busy machine) delays nothing:
//    the others take its chunks.
#ifndef TESSERA_ENGINE_LLAMA_THREAD_POOL_H_
#define TESSERA_ENGINE_LLAMA_THREAD_POOL_H_

#include <atomic>
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

  // Calls fn(begin, end) over disjoint contiguous ranges covering [0, n), ranges
  // aligned to `grain` elements, on any of the pool's threads (a thread may run
  // several ranges); returns when all are done. Calls from several threads take
  // turns; `fn` must not call ParallelFor on the same pool.
  void ParallelFor(int64_t n, int64_t grain, absl::FunctionRef<void(int64_t, int64_t)> fn);

 private:
  void WorkerLoop();
  // Claims and runs chunks of task `generation` until none is left.
  void RunChunks(uint32_t generation);

  std::vector<std::thread> workers_;
  // Serialises ParallelFor calls from different threads (e.g. two sequences).
  absl::Mutex run_mutex_;
  // The current task, written before claim_ publishes it (release) and read by
  // a thread only after it claimed one of its chunks (acquire), so a worker that
  // wakes late never reads a half-written task.
  const absl::FunctionRef<void(int64_t, int64_t)>* task_ = nullptr;
  int64_t task_n_ = 0;
  int64_t task_chunk_ = 0;
  uint32_t generation_ = 0;  // Under run_mutex_.
  // generation << 32 | chunk count << 16 | next chunk to claim.
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint32_t> done_{0};  // Chunks of the current task finished.
  std::atomic<bool> stopping_{false};
  // Workers that spun without seeing a task sleep here.
  absl::Mutex sleep_mutex_;
  absl::CondVar wake_;
  int sleepers_ ABSL_GUARDED_BY(sleep_mutex_) = 0;
};

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_THREAD_POOL_H_
