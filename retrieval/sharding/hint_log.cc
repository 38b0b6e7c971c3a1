#include "retrieval/sharding/hint_log.h"

namespace tessera::retrieval::sharding {

absl::StatusOr<std::unique_ptr<HintLog>> HintLog::Open(const std::string& path) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  absl::Status created = (*db)->Execute(
      "CREATE TABLE IF NOT EXISTS hints("
      "  sequence INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  replica TEXT NOT NULL, tenant TEXT NOT NULL, method TEXT NOT NULL,"
      "  request BLOB NOT NULL);"
      "CREATE INDEX IF NOT EXISTS hints_by_replica ON hints(replica, sequence);");
  if (!created.ok()) return created;
  auto log = std::unique_ptr<HintLog>(new HintLog(std::move(*db)));
  absl::MutexLock lock(&log->mu_);
  auto count = log->db_->Prepare("SELECT replica, COUNT(*) FROM hints GROUP BY replica");
  if (!count.ok()) return count.status();
  while (true) {
    auto row = count->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    log->pending_[count->ColumnText(0)] = count->ColumnInt(1);
  }
  return log;
}

absl::Status HintLog::Append(const std::string& replica, const std::string& tenant,
                             const std::string& method, const std::string& request) {
  absl::MutexLock lock(&mu_);
  auto insert =
      db_->Prepare("INSERT INTO hints(replica, tenant, method, request) VALUES(?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  absl::Status status = insert->BindText(1, replica)
                            .BindText(2, tenant)
                            .BindText(3, method)
                            .BindBlob(4, request)
                            .Run();
  if (!status.ok()) return status;
  ++pending_[replica];
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hint>> HintLog::Oldest(const std::string& replica, int limit) {
  absl::MutexLock lock(&mu_);
  auto select = db_->Prepare(
      "SELECT sequence, tenant, method, request FROM hints WHERE replica = ? "
      "ORDER BY sequence LIMIT ?");
  if (!select.ok()) return select.status();
  select->BindText(1, replica).Bind(2, static_cast<int64_t>(limit));
  std::vector<Hint> hints;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Hint hint;
    hint.sequence = select->ColumnInt(0);
    hint.replica = replica;
    hint.tenant = select->ColumnText(1);
    hint.method = select->ColumnText(2);
    hint.request = select->ColumnBlob(3);
    hints.push_back(std::move(hint));
  }
  return hints;
}

absl::Status HintLog::Remove(const Hint& hint) {
  absl::MutexLock lock(&mu_);
  auto remove = db_->Prepare("DELETE FROM hints WHERE sequence = ?");
  if (!remove.ok()) return remove.status();
  absl::Status status = remove->Bind(1, hint.sequence).Run();
  if (!status.ok()) return status;
  if (db_->Changes() > 0) {
    auto found = pending_.find(hint.replica);
    if (found != pending_.end() && --found->second <= 0) pending_.erase(found);
  }
  return absl::OkStatus();
}

int64_t HintLog::Pending(const std::string& replica) const {
  absl::MutexLock lock(&mu_);
  auto found = pending_.find(replica);
  return found == pending_.end() ? 0 : found->second;
}

std::vector<std::string> HintLog::ReplicasWithHints() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> replicas;
  for (const auto& [replica, count] : pending_) replicas.push_back(replica);
  return replicas;
}

}  // namespace tessera::retrieval::sharding
