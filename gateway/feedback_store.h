// Feedback on responses (thumbs, 1-5 scores, comments, corrected answers)
// recorded against a request id in SQLite, tenant-scoped, and exportable as
// JSON lines for evaluation and preference tuning. Thread-safe.
#ifndef TESSERA_GATEWAY_FEEDBACK_STORE_H_
#define TESSERA_GATEWAY_FEEDBACK_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "gateway/clock.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::gateway {

class FeedbackStore {
 public:
  static absl::StatusOr<std::unique_ptr<FeedbackStore>> Open(const std::string& path,
                                                             const Clock* clock = Clock::Real());

  // Validates and stores; returns the feedback's id. InvalidArgument names the
  // field (request_id missing, score outside 0-5, nothing to record, ...).
  absl::StatusOr<std::string> Submit(absl::string_view tenant,
                                     const tessera::common::v1::Feedback& feedback);

  // The tenant's feedback (on one request when `request_id` is set), oldest first.
  absl::StatusOr<std::vector<tessera::common::v1::Feedback>> List(absl::string_view tenant,
                                                                  absl::string_view request_id = "");

  // One JSON object per line: {"request_id","rating","score","comment",
  // "corrected_output","user_id","labels","create_time"}.
  absl::StatusOr<std::string> ExportJsonl(absl::string_view tenant);

 private:
  FeedbackStore(std::unique_ptr<SqliteDatabase> db, const Clock* clock)
      : db_(std::move(db)), clock_(clock) {}
  absl::Mutex mu_;
  std::unique_ptr<SqliteDatabase> db_ ABSL_GUARDED_BY(mu_);
  const Clock* clock_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_FEEDBACK_STORE_H_
