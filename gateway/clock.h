// Time source for the gateway's stateful policies (rate limits, circuit breakers,
// canary ramps, cache TTLs), injectable so tests control time exactly.
#ifndef TESSERA_GATEWAY_CLOCK_H_
#define TESSERA_GATEWAY_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tessera::gateway {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide real-time clock (never null, never destroyed).
  static const Clock* Real();
};

// A manually advanced clock for tests. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}
  absl::Time Now() const override;
  void Advance(absl::Duration by);
  void Set(absl::Time to);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_CLOCK_H_
