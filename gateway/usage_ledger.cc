#include "gateway/usage_ledger.h"

#include <spdlog/spdlog.h>

#include <limits>

namespace tessera::gateway {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS usage (
  tenant TEXT NOT NULL,
  unix_minute INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  embedding_tokens INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  PRIMARY KEY (tenant, unix_minute)
) WITHOUT ROWID;
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<UsageLedger>> UsageLedger::Open(const std::string& path,
                                                               const Clock* clock,
                                                               absl::Duration flush_interval) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  absl::Status schema = (*db)->Execute(kSchema);
  if (!schema.ok()) return schema;
  return std::unique_ptr<UsageLedger>(new UsageLedger(std::move(*db), clock, flush_interval));
}

UsageLedger::UsageLedger(std::unique_ptr<SqliteDatabase> db, const Clock* clock,
                         absl::Duration interval)
    : clock_(clock), flush_interval_(interval), db_(std::move(db)) {
  flusher_ = std::thread([this] { FlushLoop(); });
}

UsageLedger::~UsageLedger() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  flusher_.join();
  absl::Status flushed = Flush();
  if (!flushed.ok()) spdlog::error("usage ledger: final flush failed: {}", flushed.ToString());
}

void UsageLedger::FlushLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), flush_interval_);
    if (stopping_) break;
    mu_.Unlock();
    absl::Status flushed = Flush();
    if (!flushed.ok()) spdlog::warn("usage ledger: flush failed: {}", flushed.ToString());
    mu_.Lock();
  }
}

void UsageLedger::Add(absl::string_view tenant, int64_t requests,
                      const tessera::common::v1::Usage& usage, int64_t minute) {
  if (minute < 0) minute = absl::ToUnixSeconds(clock_->Now()) / 60;
  absl::MutexLock lock(&mu_);
  UsageTotals& bucket = pending_[{std::string(tenant), minute}];
  bucket.requests += requests;
  auto* total = &bucket.usage;
  total->set_prompt_tokens(total->prompt_tokens() + usage.prompt_tokens());
  total->set_completion_tokens(total->completion_tokens() + usage.completion_tokens());
  total->set_total_tokens(total->total_tokens() + usage.total_tokens());
  total->set_embedding_tokens(total->embedding_tokens() + usage.embedding_tokens());
  total->set_cost_micros(total->cost_micros() + usage.cost_micros());
}

void UsageLedger::RecordRequest(absl::string_view tenant) { Add(tenant, 1, {}); }

void UsageLedger::RecordUsage(absl::string_view tenant, const tessera::common::v1::Usage& usage) {
  Add(tenant, 0, usage);
}

absl::Status UsageLedger::Flush() {
  std::map<BucketKey, UsageTotals> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return absl::OkStatus();
  absl::Status written = Write(batch);
  if (!written.ok()) {
    // Keep the counts for the next attempt rather than lose them.
    for (const auto& [key, totals] : batch) {
      Add(key.first, totals.requests, totals.usage, key.second);
    }
  }
  return written;
}

absl::Status UsageLedger::Write(const std::map<BucketKey, UsageTotals>& batch) {
  absl::MutexLock lock(&db_mu_);
  SqliteTransaction transaction(db_.get());
  absl::Status status = transaction.begun();
  if (!status.ok()) return status;
  auto upsert = db_->Prepare(
      "INSERT INTO usage (tenant, unix_minute, requests, prompt_tokens, completion_tokens, "
      "total_tokens, embedding_tokens, cost_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (tenant, unix_minute) DO UPDATE SET requests = requests + excluded.requests, "
      "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
      "completion_tokens = completion_tokens + excluded.completion_tokens, "
      "total_tokens = total_tokens + excluded.total_tokens, "
      "embedding_tokens = embedding_tokens + excluded.embedding_tokens, "
      "cost_micros = cost_micros + excluded.cost_micros");
  if (!upsert.ok()) return upsert.status();
  for (const auto& [key, totals] : batch) {
    upsert->Reset();
    upsert->BindText(1, key.first)
        .Bind(2, key.second)
        .Bind(3, totals.requests)
        .Bind(4, totals.usage.prompt_tokens())
        .Bind(5, totals.usage.completion_tokens())
        .Bind(6, totals.usage.total_tokens())
        .Bind(7, totals.usage.embedding_tokens())
        .Bind(8, totals.usage.cost_micros());
    status = upsert->Run();
    if (!status.ok()) return status;
  }
  return transaction.Commit();
}

absl::StatusOr<UsageTotals> UsageLedger::Totals(absl::string_view tenant, absl::Time since) {
  absl::Status flushed = Flush();
  if (!flushed.ok()) return flushed;
  const int64_t from_minute =
      since == absl::InfinitePast() ? std::numeric_limits<int64_t>::min() : absl::ToUnixSeconds(since) / 60;
  absl::MutexLock lock(&db_mu_);
  auto select = db_->Prepare(
      "SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(prompt_tokens), 0), "
      "COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(total_tokens), 0), "
      "COALESCE(SUM(embedding_tokens), 0), COALESCE(SUM(cost_micros), 0) "
      "FROM usage WHERE tenant = ? AND unix_minute >= ?");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).Bind(2, from_minute);
  auto row = select->Step();
  if (!row.ok()) return row.status();
  UsageTotals totals;
  totals.requests = select->ColumnInt(0);
  totals.usage.set_prompt_tokens(select->ColumnInt(1));
  totals.usage.set_completion_tokens(select->ColumnInt(2));
  totals.usage.set_total_tokens(select->ColumnInt(3));
  totals.usage.set_embedding_tokens(select->ColumnInt(4));
  totals.usage.set_cost_micros(select->ColumnInt(5));
  return totals;
}

}  // namespace tessera::gateway
