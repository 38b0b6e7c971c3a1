#include "bench/memory_bandwidth.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Wide loads so that the loop, not the core, is never the limit.
__attribute__((target("avx2"))) uint64_t SumAvx2(const uint8_t* data, size_t bytes) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  __m256i acc2 = _mm256_setzero_si256(), acc3 = _mm256_setzero_si256();
  for (size_t i = 0; i + 128 <= bytes; i += 128) {
    const __m256i* p = reinterpret_cast<const __m256i*>(data + i);
    acc0 = _mm256_add_epi64(acc0, _mm256_load_si256(p));
    acc1 = _mm256_add_epi64(acc1, _mm256_load_si256(p + 1));
    acc2 = _mm256_add_epi64(acc2, _mm256_load_si256(p + 2));
    acc3 = _mm256_add_epi64(acc3, _mm256_load_si256(p + 3));
  }
  const __m256i acc = _mm256_add_epi64(_mm256_add_epi64(acc0, acc1), _mm256_add_epi64(acc2, acc3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

uint64_t SumPortable(const uint8_t* data, size_t bytes) {
  uint64_t sum = 0;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    uint64_t v;
    std::memcpy(&v, data + i, 8);
    sum += v;
  }
  return sum;
}

uint64_t Sum(const uint8_t* data, size_t bytes) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 ? SumAvx2(data, bytes) : SumPortable(data, bytes);
}

// Seconds for `fn(begin, end)` over [0, bytes) in `threads` contiguous slices.
template <typename Fn>
double TimeSlices(size_t bytes, int threads, Fn fn) {
  const size_t slice = (bytes / threads) & ~size_t{127};
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back([&, t] { fn(t * slice, (t + 1) * slice); });
  fn(0, slice);
  for (std::thread& worker : workers) worker.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};

}  // namespace

MemoryBandwidth MeasureMemoryBandwidth(size_t bytes, int threads, int repeats) {
  threads = std::max(1, threads);
  bytes = std::max<size_t>(bytes, size_t{1} << 20) & ~size_t{4095};
  std::unique_ptr<uint8_t, AlignedFree> src(static_cast<uint8_t*>(std::aligned_alloc(4096, bytes)));
  std::unique_ptr<uint8_t, AlignedFree> dst(static_cast<uint8_t*>(std::aligned_alloc(4096, bytes)));
  // Touch every page first so page faults are not timed.
  std::memset(src.get(), 1, bytes);
  std::memset(dst.get(), 0, bytes);
  const size_t timed = (bytes / threads) & ~size_t{127};
  MemoryBandwidth best;
  volatile uint64_t sink = 0;
  for (int r = 0; r < repeats; ++r) {
    std::vector<uint64_t> sums(threads);
    const double read_s = TimeSlices(bytes, threads, [&](size_t begin, size_t end) {
      sums[begin / std::max<size_t>(timed, 1)] = Sum(src.get() + begin, end - begin);
    });
    for (uint64_t s : sums) sink = sink + s;
    const double copy_s = TimeSlices(bytes, threads, [&](size_t begin, size_t end) {
      std::memcpy(dst.get() + begin, src.get() + begin, end - begin);
    });
    const double moved = static_cast<double>(timed) * threads;
    best.read_gb_per_s = std::max(best.read_gb_per_s, moved / read_s / 1e9);
    best.copy_gb_per_s = std::max(best.copy_gb_per_s, moved / copy_s / 1e9);
  }
  return best;
}

}  // namespace tessera::bench
