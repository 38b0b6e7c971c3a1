// Hinted handoff: writes that a shard replica could not take because it was
// down, kept durably (SQLite, fsynced) until it is back and then replayed in
// the order they were accepted. A replica with hints is behind: reads prefer
// its peers, and a search answered by it is flagged partial.
#ifndef TESSERA_RETRIEVAL_SHARDING_HINT_LOG_H_
#define TESSERA_RETRIEVAL_SHARDING_HINT_LOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"

namespace tessera::retrieval::sharding {

struct Hint {
  int64_t sequence = 0;
  std::string replica;  // The replica's address.
  std::string tenant;
  std::string method;   // An IngestService method name, e.g. "PutDocument".
  std::string request;  // The serialized request message.
};

class HintLog {
 public:
  // Opens (creating if missing) the log at `path`.
  static absl::StatusOr<std::unique_ptr<HintLog>> Open(const std::string& path);

  // Durable once this returns OK.
  absl::Status Append(const std::string& replica, const std::string& tenant,
                      const std::string& method, const std::string& request);
  // The oldest hints of `replica`, at most `limit`, oldest first.
  absl::StatusOr<std::vector<Hint>> Oldest(const std::string& replica, int limit);
  absl::Status Remove(const Hint& hint);

  // Hints waiting for `replica` (kept in memory; no database access).
  int64_t Pending(const std::string& replica) const;
  // Replicas with at least one hint.
  std::vector<std::string> ReplicasWithHints() const;

 private:
  explicit HintLog(std::unique_ptr<SqliteDatabase> db) : db_(std::move(db)) {}

  mutable absl::Mutex mu_;
  std::unique_ptr<SqliteDatabase> db_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::retrieval::sharding

#endif  // TESSERA_RETRIEVAL_SHARDING_HINT_LOG_H_
