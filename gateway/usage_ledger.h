// Per-tenant usage accounting: requests, tokens and cost in per-minute buckets,
// kept in SQLite so GetUsage survives restarts. Recording only adds to memory;
// a background thread writes the buckets in one transaction every flush
// interval (and on Flush / destruction), so the request path never waits for
// an fsync. Thread-safe.
#ifndef TESSERA_GATEWAY_USAGE_LEDGER_H_
#define TESSERA_GATEWAY_USAGE_LEDGER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite.h"
#include "gateway/clock.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::gateway {

struct UsageTotals {
  int64_t requests = 0;
  tessera::common::v1::Usage usage;
};

class UsageLedger {
 public:
  static absl::StatusOr<std::unique_ptr<UsageLedger>> Open(
      const std::string& path, const Clock* clock = Clock::Real(),
      absl::Duration flush_interval = absl::Seconds(1));
  ~UsageLedger();

  // One admitted request.
  void RecordRequest(absl::string_view tenant);
  // Tokens and cost of a finished call.
  void RecordUsage(absl::string_view tenant, const tessera::common::v1::Usage& usage);

  // Totals of `tenant` from the minute containing `since` on.
  absl::StatusOr<UsageTotals> Totals(absl::string_view tenant, absl::Time since);

  // Writes what is recorded so far.
  absl::Status Flush();

 private:
  using BucketKey = std::pair<std::string, int64_t>;  // tenant, unix minute
  UsageLedger(std::unique_ptr<SqliteDatabase> db, const Clock* clock, absl::Duration interval);
  // `minute` < 0: the current minute.
  void Add(absl::string_view tenant, int64_t requests, const tessera::common::v1::Usage& usage,
           int64_t minute = -1);
  absl::Status Write(const std::map<BucketKey, UsageTotals>& batch);
  void FlushLoop();

  const Clock* clock_;
  const absl::Duration flush_interval_;
  absl::Mutex db_mu_;
  std::unique_ptr<SqliteDatabase> db_ ABSL_GUARDED_BY(db_mu_);
  absl::Mutex mu_;
  std::map<BucketKey, UsageTotals> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_USAGE_LEDGER_H_
