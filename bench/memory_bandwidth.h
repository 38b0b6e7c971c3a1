// The machine's memory bandwidth, measured the plain way (streaming a buffer far
// larger than the caches), as the roofline for batch-1 decode: each decoded token
// reads every weight matrix once.
#ifndef TESSERA_BENCH_MEMORY_BANDWIDTH_H_
#define TESSERA_BENCH_MEMORY_BANDWIDTH_H_

#include <cstddef>

namespace tessera::bench {

struct MemoryBandwidth {
  double read_gb_per_s = 0;  // Bytes read per second (a sum over the buffer).
  double copy_gb_per_s = 0;  // Bytes copied per second (memcpy; the bytes moved are twice that).
};

// Best of `repeats` passes over a `bytes` buffer split across `threads` threads.
MemoryBandwidth MeasureMemoryBandwidth(size_t bytes, int threads, int repeats = 5);

}  // namespace tessera::bench

#endif  // TESSERA_BENCH_MEMORY_BANDWIDTH_H_
