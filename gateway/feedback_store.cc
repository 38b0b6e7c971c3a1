#include "gateway/feedback_store.h"

#include <google/protobuf/util/time_util.h>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"

namespace tessera::gateway {
namespace {

using tessera::common::v1::Feedback;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS feedback (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  request_id TEXT NOT NULL,
  rating INTEGER NOT NULL,
  score INTEGER NOT NULL,
  comment TEXT NOT NULL,
  corrected_output TEXT NOT NULL,
  user_id TEXT NOT NULL,
  labels_json TEXT NOT NULL,
  create_unix_micros INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_request ON feedback(tenant, request_id);
)sql";

constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxTextBytes = 256 << 10;

std::string NewId() {
  thread_local absl::BitGen random;
  return absl::StrFormat("fb_%016x%016x", absl::Uniform<uint64_t>(random),
                         absl::Uniform<uint64_t>(random));
}

const char* RatingName(Feedback::Rating rating) {
  switch (rating) {
    case Feedback::THUMBS_UP:
      return "thumbs_up";
    case Feedback::THUMBS_DOWN:
      return "thumbs_down";
    default:
      return "";
  }
}

absl::Status Validate(const Feedback& feedback) {
  if (feedback.request_id().empty()) {
    return absl::InvalidArgumentError("feedback.request_id is required");
  }
  if (feedback.request_id().size() > kMaxIdBytes || feedback.user_id().size() > kMaxIdBytes) {
    return absl::InvalidArgumentError("feedback.request_id and user_id are at most 256 bytes");
  }
  if (!Feedback::Rating_IsValid(feedback.rating())) {
    return absl::InvalidArgumentError("feedback.rating is not a known rating");
  }
  if (feedback.score() < 0 || feedback.score() > 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("feedback.score must be 1-5 (0: none), got ", feedback.score()));
  }
  if (feedback.comment().size() > kMaxTextBytes ||
      feedback.corrected_output().size() > kMaxTextBytes) {
    return absl::InvalidArgumentError("feedback.comment and corrected_output are at most 256 KiB");
  }
  if (feedback.rating() == Feedback::RATING_UNSPECIFIED && feedback.score() == 0 &&
      feedback.comment().empty() && feedback.corrected_output().empty()) {
    return absl::InvalidArgumentError(
        "feedback has nothing to record: set rating, score, comment or corrected_output");
  }
  return absl::OkStatus();
}

Feedback RowToFeedback(const SqliteStatement& row) {
  Feedback feedback;
  feedback.set_request_id(row.ColumnText(0));
  feedback.set_rating(static_cast<Feedback::Rating>(row.ColumnInt(1)));
  feedback.set_score(static_cast<int32_t>(row.ColumnInt(2)));
  feedback.set_comment(row.ColumnText(3));
  feedback.set_corrected_output(row.ColumnText(4));
  feedback.set_user_id(row.ColumnText(5));
  auto labels = ParseJson(row.ColumnText(6), "labels");
  if (labels.ok() && labels->is_object()) {
    for (const auto& [key, value] : labels->items()) {
      if (value.is_string()) (*feedback.mutable_labels())[key] = value.get<std::string>();
    }
  }
  *feedback.mutable_create_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(row.ColumnInt(7));
  return feedback;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FeedbackStore>> FeedbackStore::Open(const std::string& path,
                                                                   const Clock* clock) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  absl::Status schema = (*db)->Execute(kSchema);
  if (!schema.ok()) return schema;
  return std::unique_ptr<FeedbackStore>(new FeedbackStore(std::move(*db), clock));
}

absl::StatusOr<std::string> FeedbackStore::Submit(absl::string_view tenant,
                                                  const Feedback& feedback) {
  absl::Status valid = Validate(feedback);
  if (!valid.ok()) return valid;
  Json labels = Json::object();
  for (const auto& [key, value] : feedback.labels()) labels[key] = value;
  const std::string id = NewId();
  absl::MutexLock lock(&mu_);
  auto insert = db_->Prepare(
      "INSERT INTO feedback (id, tenant, request_id, rating, score, comment, corrected_output, "
      "user_id, labels_json, create_unix_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, id)
      .BindText(2, tenant)
      .BindText(3, feedback.request_id())
      .Bind(4, static_cast<int64_t>(feedback.rating()))
      .Bind(5, static_cast<int64_t>(feedback.score()))
      .BindText(6, feedback.comment())
      .BindText(7, feedback.corrected_output())
      .BindText(8, feedback.user_id())
      .BindText(9, DumpJson(labels))
      .Bind(10, absl::ToUnixMicros(clock_->Now()));
  absl::Status inserted = insert->Run();
  if (!inserted.ok()) return inserted;
  return id;
}

absl::StatusOr<std::vector<Feedback>> FeedbackStore::List(absl::string_view tenant,
                                                          absl::string_view request_id) {
  absl::MutexLock lock(&mu_);
  std::string sql =
      "SELECT request_id, rating, score, comment, corrected_output, user_id, labels_json, "
      "create_unix_micros FROM feedback WHERE tenant = ?";
  if (!request_id.empty()) absl::StrAppend(&sql, " AND request_id = ?");
  absl::StrAppend(&sql, " ORDER BY create_unix_micros, id");
  auto select = db_->Prepare(sql);
  if (!select.ok()) return select.status();
  select->BindText(1, tenant);
  if (!request_id.empty()) select->BindText(2, request_id);
  std::vector<Feedback> out;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(RowToFeedback(*select));
  }
  return out;
}

absl::StatusOr<std::string> FeedbackStore::ExportJsonl(absl::string_view tenant) {
  auto all = List(tenant);
  if (!all.ok()) return all.status();
  std::string out;
  for (const Feedback& feedback : *all) {
    Json labels = Json::object();
    for (const auto& [key, value] : feedback.labels()) labels[key] = value;
    Json line = {{"request_id", feedback.request_id()},
                 {"rating", RatingName(feedback.rating())},
                 {"score", feedback.score()},
                 {"comment", feedback.comment()},
                 {"corrected_output", feedback.corrected_output()},
                 {"user_id", feedback.user_id()},
                 {"labels", labels},
                 {"create_time",
                  google::protobuf::util::TimeUtil::ToString(feedback.create_time())}};
    absl::StrAppend(&out, DumpJson(line), "\n");
  }
  return out;
}

}  // namespace tessera::gateway
