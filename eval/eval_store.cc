#include "eval/eval_store.h"

#include <google/protobuf/util/time_util.h>

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eval/model_call.h"

namespace tessera::eval {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS eval_datasets (
  id TEXT PRIMARY KEY,
  case_count INTEGER NOT NULL,
  created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS eval_dataset_cases (
  dataset_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  case_proto BLOB NOT NULL,
  PRIMARY KEY (dataset_id, position));
CREATE TABLE IF NOT EXISTS eval_jobs (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  spec BLOB NOT NULL,
  spec_hash TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  cases_total INTEGER NOT NULL,
  cases_done INTEGER NOT NULL DEFAULT 0,
  cases_failed INTEGER NOT NULL DEFAULT 0,
  usage BLOB NOT NULL DEFAULT x'',
  summary TEXT NOT NULL DEFAULT '{}',
  error TEXT NOT NULL DEFAULT '',
  report_path TEXT NOT NULL DEFAULT '',
  judge_steps TEXT NOT NULL DEFAULT '{}',
  created_us INTEGER NOT NULL,
  updated_us INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS eval_jobs_by_state ON eval_jobs (state);
CREATE TABLE IF NOT EXISTS eval_case_results (
  job_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  result BLOB NOT NULL,
  PRIMARY KEY (job_id, case_id));
CREATE TABLE IF NOT EXISTS eval_review_items (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  item BLOB NOT NULL,
  human_score REAL,
  reviewer TEXT NOT NULL DEFAULT '',
  created_us INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS eval_review_by_job ON eval_review_items (job_id);
)sql";

constexpr char kJobColumns[] =
    "id, tenant, spec, spec_hash, dataset_id, state, cases_total, cases_done, cases_failed, "
    "usage, summary, error, report_path, judge_steps, created_us, updated_us";

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("eval store: cannot decode ", what));
}

absl::StatusOr<StoredJob> JobFromRow(const SqliteStatement& row) {
  StoredJob stored;
  v1::Job& job = stored.job;
  job.set_id(row.ColumnText(0));
  stored.tenant = row.ColumnText(1);
  if (!job.mutable_spec()->ParseFromString(row.ColumnBlob(2))) return Corrupt("job spec");
  stored.spec_hash = row.ColumnText(3);
  stored.dataset_id = row.ColumnText(4);
  job.set_state(static_cast<v1::JobState>(row.ColumnInt(5)));
  job.set_cases_total(row.ColumnInt(6));
  job.set_cases_done(row.ColumnInt(7));
  job.set_cases_failed(row.ColumnInt(8));
  if (!job.mutable_usage()->ParseFromString(row.ColumnBlob(9))) return Corrupt("job usage");
  auto summary = ParseJson(row.ColumnText(10), "job summary");
  if (!summary.ok() || !summary->is_object()) return Corrupt("job summary");
  for (const auto& [key, value] : summary->items()) {
    if (value.is_number()) (*job.mutable_summary())[key] = value.get<double>();
  }
  job.set_error(row.ColumnText(11));
  job.set_report_path(row.ColumnText(12));
  auto steps = ParseJson(row.ColumnText(13), "judge steps");
  if (!steps.ok()) return Corrupt("judge steps");
  stored.judge_steps = *std::move(steps);
  using google::protobuf::util::TimeUtil;
  *job.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.ColumnInt(14));
  *job.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.ColumnInt(15));
  return stored;
}

// "LIMIT ? OFFSET ?" with the page's bounds.
void BindPage(SqliteStatement& statement, int first_index, const Page& page) {
  statement.Bind(first_index, std::max<int64_t>(page.limit, 1))
      .Bind(first_index + 1, std::max<int64_t>(page.offset, 0));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EvalStore>> EvalStore::Open(const std::string& path) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  absl::Status status = (*db)->Execute(kSchema);
  if (!status.ok()) return status;
  return std::unique_ptr<EvalStore>(new EvalStore(*std::move(db)));
}

absl::StatusOr<std::string> EvalStore::PutDataset(const Cases& cases) {
  const std::string id = ContentHash(cases);
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(db_.get());
  if (!transaction.begun().ok()) return transaction.begun();
  auto exists = db_->Prepare("SELECT 1 FROM eval_datasets WHERE id = ?1");
  if (!exists.ok()) return exists.status();
  exists->BindText(1, id);
  auto found = exists->Step();
  if (!found.ok()) return found.status();
  if (*found) return id;
  auto insert = db_->Prepare("INSERT INTO eval_datasets (id, case_count, created_us) VALUES (?1, ?2, ?3)");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, id).Bind(2, static_cast<int64_t>(cases.size())).Bind(3, NowMicros());
  if (absl::Status status = insert->Run(); !status.ok()) return status;
  auto add = db_->Prepare(
      "INSERT INTO eval_dataset_cases (dataset_id, position, case_proto) VALUES (?1, ?2, ?3)");
  if (!add.ok()) return add.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    add->Reset();
    add->BindText(1, id).Bind(2, static_cast<int64_t>(i)).BindBlob(3, cases[i].SerializeAsString());
    if (absl::Status status = add->Run(); !status.ok()) return status;
  }
  if (absl::Status status = transaction.Commit(); !status.ok()) return status;
  return id;
}

absl::StatusOr<Cases> EvalStore::GetDataset(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto select = db_->Prepare(
      "SELECT case_proto FROM eval_dataset_cases WHERE dataset_id = ?1 ORDER BY position");
  if (!select.ok()) return select.status();
  select->BindText(1, id);
  Cases cases;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (!cases.emplace_back().ParseFromString(select->ColumnBlob(0))) return Corrupt("case");
  }
  if (cases.empty()) return absl::NotFoundError(absl::StrCat("dataset \"", id, "\" not found"));
  return cases;
}

absl::Status EvalStore::CreateJob(const StoredJob& stored) {
  absl::MutexLock lock(&mu_);
  auto insert = db_->Prepare(absl::StrCat(
      "INSERT INTO eval_jobs (", kJobColumns,
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8, '{}', '', '', ?9, ?10, ?10)"));
  if (!insert.ok()) return insert.status();
  const int64_t now = NowMicros();
  insert->BindText(1, stored.job.id())
      .BindText(2, stored.tenant)
      .BindBlob(3, stored.job.spec().SerializeAsString())
      .BindText(4, stored.spec_hash)
      .BindText(5, stored.dataset_id)
      .Bind(6, static_cast<int64_t>(stored.job.state()))
      .Bind(7, stored.job.cases_total())
      .BindBlob(8, agents::Usage().SerializeAsString())
      .BindText(9, DumpJson(stored.judge_steps))
      .Bind(10, now);
  return insert->Run();
}

absl::StatusOr<std::vector<StoredJob>> EvalStore::ReadJobs(const std::string& sql_where,
                                                           const std::vector<std::string>& args) {
  auto select = db_->Prepare(absl::StrCat("SELECT ", kJobColumns, " FROM eval_jobs WHERE ",
                                          sql_where, " ORDER BY created_us, id"));
  if (!select.ok()) return select.status();
  for (size_t i = 0; i < args.size(); ++i) select->BindText(static_cast<int>(i) + 1, args[i]);
  std::vector<StoredJob> jobs;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    auto job = JobFromRow(*select);
    if (!job.ok()) return job.status();
    jobs.push_back(*std::move(job));
  }
  return jobs;
}

absl::StatusOr<StoredJob> EvalStore::GetJob(const std::string& tenant, const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto jobs = ReadJobs("tenant = ?1 AND id = ?2", {tenant, id});
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return absl::NotFoundError(absl::StrCat("job \"", id, "\" not found"));
  return std::move(jobs->front());
}

absl::StatusOr<StoredJob> EvalStore::GetJobAnyTenant(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto jobs = ReadJobs("id = ?1", {id});
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return absl::NotFoundError(absl::StrCat("job \"", id, "\" not found"));
  return std::move(jobs->front());
}

absl::StatusOr<std::vector<StoredJob>> EvalStore::UnfinishedJobs() {
  absl::MutexLock lock(&mu_);
  return ReadJobs(absl::StrCat("state IN (", v1::QUEUED, ", ", v1::RUNNING, ")"), {});
}

absl::StatusOr<std::optional<StoredJob>> EvalStore::FindUnfinishedJob(const std::string& tenant,
                                                                      const std::string& spec_hash) {
  absl::MutexLock lock(&mu_);
  auto jobs = ReadJobs(absl::StrCat("tenant = ?1 AND spec_hash = ?2 AND state IN (", v1::QUEUED,
                                    ", ", v1::RUNNING, ")"),
                       {tenant, spec_hash});
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return std::optional<StoredJob>();
  return std::optional<StoredJob>(std::move(jobs->front()));
}

absl::StatusOr<v1::Job> EvalStore::UpdateJob(const std::string& id, v1::JobState state,
                                             const std::string& error,
                                             const std::map<std::string, double>* summary,
                                             const std::string* report_path) {
  absl::MutexLock lock(&mu_);
  auto update = db_->Prepare(
      "UPDATE eval_jobs SET state = ?2, error = ?3, summary = COALESCE(?4, summary), "
      "report_path = COALESCE(?5, report_path), updated_us = ?6 WHERE id = ?1");
  if (!update.ok()) return update.status();
  update->BindText(1, id).Bind(2, static_cast<int64_t>(state)).BindText(3, error);
  if (summary != nullptr) {
    Json object = Json::object();
    for (const auto& [key, value] : *summary) object[key] = value;
    update->BindText(4, DumpJson(object));
  } else {
    update->BindNull(4);
  }
  if (report_path != nullptr) {
    update->BindText(5, *report_path);
  } else {
    update->BindNull(5);
  }
  update->Bind(6, NowMicros());
  if (absl::Status status = update->Run(); !status.ok()) return status;
  if (db_->Changes() == 0) return absl::NotFoundError(absl::StrCat("job \"", id, "\" not found"));
  auto jobs = ReadJobs("id = ?1", {id});
  if (!jobs.ok()) return jobs.status();
  return jobs->front().job;
}

absl::Status EvalStore::SaveJudgeSteps(const std::string& id, const Json& steps,
                                       const agents::Usage& usage) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(db_.get());
  if (!transaction.begun().ok()) return transaction.begun();
  auto jobs = ReadJobs("id = ?1", {id});
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return absl::NotFoundError(absl::StrCat("job \"", id, "\" not found"));
  agents::Usage total = jobs->front().job.usage();
  AddUsage(usage, &total);
  auto update = db_->Prepare(
      "UPDATE eval_jobs SET judge_steps = ?2, usage = ?3, updated_us = ?4 WHERE id = ?1");
  if (!update.ok()) return update.status();
  update->BindText(1, id).BindText(2, DumpJson(steps)).BindBlob(3, total.SerializeAsString()).Bind(4, NowMicros());
  if (absl::Status status = update->Run(); !status.ok()) return status;
  return transaction.Commit();
}

absl::StatusOr<v1::Job> EvalStore::RecordCase(const std::string& job_id, int64_t position,
                                              const v1::CaseResult& result, bool failed,
                                              const std::vector<v1::ReviewItem>& review) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(db_.get());
  if (!transaction.begun().ok()) return transaction.begun();
  auto jobs = ReadJobs("id = ?1", {job_id});
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return absl::NotFoundError(absl::StrCat("job \"", job_id, "\" not found"));
  auto exists = db_->Prepare("SELECT 1 FROM eval_case_results WHERE job_id = ?1 AND case_id = ?2");
  if (!exists.ok()) return exists.status();
  exists->BindText(1, job_id).BindText(2, result.case_id());
  auto found = exists->Step();
  if (!found.ok()) return found.status();
  if (*found) {
    return absl::AlreadyExistsError(
        absl::StrCat("job ", job_id, ": case \"", result.case_id(), "\" was already recorded"));
  }
  auto insert = db_->Prepare(
      "INSERT INTO eval_case_results (job_id, case_id, position, failed, result) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, job_id)
      .BindText(2, result.case_id())
      .Bind(3, position)
      .Bind(4, static_cast<int64_t>(failed))
      .BindBlob(5, result.SerializeAsString());
  if (absl::Status status = insert->Run(); !status.ok()) return status;
  agents::Usage usage = jobs->front().job.usage();
  AddUsage(result.usage(), &usage);
  auto update = db_->Prepare(
      "UPDATE eval_jobs SET cases_done = cases_done + 1, cases_failed = cases_failed + ?2, "
      "usage = ?3, updated_us = ?4 WHERE id = ?1");
  if (!update.ok()) return update.status();
  update->BindText(1, job_id).Bind(2, static_cast<int64_t>(failed)).BindBlob(3, usage.SerializeAsString()).Bind(4, NowMicros());
  if (absl::Status status = update->Run(); !status.ok()) return status;
  auto add = db_->Prepare(
      "INSERT INTO eval_review_items (id, job_id, case_id, item, created_us) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!add.ok()) return add.status();
  for (const v1::ReviewItem& item : review) {
    add->Reset();
    add->BindText(1, item.id()).BindText(2, job_id).BindText(3, item.case_id()).BindBlob(4, item.SerializeAsString()).Bind(5, NowMicros());
    if (absl::Status status = add->Run(); !status.ok()) return status;
  }
  auto after = ReadJobs("id = ?1", {job_id});
  if (!after.ok()) return after.status();
  if (absl::Status status = transaction.Commit(); !status.ok()) return status;
  return after->front().job;
}

absl::StatusOr<std::set<std::string>> EvalStore::FinishedCaseIds(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto select = db_->Prepare("SELECT case_id FROM eval_case_results WHERE job_id = ?1");
  if (!select.ok()) return select.status();
  select->BindText(1, job_id);
  std::set<std::string> ids;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ids.insert(select->ColumnText(0));
  }
  return ids;
}

absl::StatusOr<std::vector<v1::CaseResult>> EvalStore::ListResults(const std::string& job_id,
                                                                   const Page& page,
                                                                   int64_t* total) {
  absl::MutexLock lock(&mu_);
  auto count = db_->Prepare("SELECT COUNT(*) FROM eval_case_results WHERE job_id = ?1");
  if (!count.ok()) return count.status();
  count->BindText(1, job_id);
  if (auto row = count->Step(); !row.ok()) return row.status();
  if (total != nullptr) *total = count->ColumnInt(0);
  auto select = db_->Prepare(
      "SELECT result FROM eval_case_results WHERE job_id = ?1 ORDER BY position LIMIT ?2 OFFSET ?3");
  if (!select.ok()) return select.status();
  select->BindText(1, job_id);
  BindPage(*select, 2, page);
  std::vector<v1::CaseResult> results;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (!results.emplace_back().ParseFromString(select->ColumnBlob(0))) return Corrupt("case result");
  }
  return results;
}

absl::StatusOr<std::vector<v1::CaseResult>> EvalStore::AllResults(const std::string& job_id) {
  int64_t total = 0;
  return ListResults(job_id, {0, std::numeric_limits<int64_t>::max()}, &total);
}

absl::StatusOr<std::vector<v1::ReviewItem>> EvalStore::AllReviewItems(const std::string& tenant,
                                                                      const std::string& job_id) {
  int64_t total = 0;
  return ListReviewItems(tenant, job_id, false, {0, std::numeric_limits<int64_t>::max()}, &total);
}

absl::StatusOr<std::vector<v1::ReviewItem>> EvalStore::ListReviewItems(
    const std::string& tenant, const std::string& job_id, bool unlabelled_only, const Page& page,
    int64_t* total) {
  absl::MutexLock lock(&mu_);
  const std::string where = absl::StrCat(
      "FROM eval_review_items r JOIN eval_jobs j ON r.job_id = j.id WHERE j.tenant = ?1 AND (?2 = '' OR r.job_id = ?2)",
      unlabelled_only ? " AND r.human_score IS NULL" : "");
  auto count = db_->Prepare(absl::StrCat("SELECT COUNT(*) ", where));
  if (!count.ok()) return count.status();
  count->BindText(1, tenant).BindText(2, job_id);
  if (auto row = count->Step(); !row.ok()) return row.status();
  if (total != nullptr) *total = count->ColumnInt(0);
  auto select = db_->Prepare(absl::StrCat("SELECT r.item, r.human_score, r.reviewer ", where,
                                          " ORDER BY r.created_us, r.id LIMIT ?3 OFFSET ?4"));
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, job_id);
  BindPage(*select, 3, page);
  std::vector<v1::ReviewItem> items;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    v1::ReviewItem& item = items.emplace_back();
    if (!item.ParseFromString(select->ColumnBlob(0))) return Corrupt("review item");
    if (!select->ColumnIsNull(1)) item.set_human_score(select->ColumnDouble(1));
    item.set_reviewer(select->ColumnText(2));
  }
  return items;
}

absl::StatusOr<v1::ReviewItem> EvalStore::ReadReviewItem(const std::string& tenant,
                                                         const std::string& id) {
  auto select = db_->Prepare(
      "SELECT r.item, r.human_score, r.reviewer FROM eval_review_items r JOIN eval_jobs j "
      "ON r.job_id = j.id WHERE j.tenant = ?1 AND r.id = ?2");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, id);
  auto row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("review item \"", id, "\" not found"));
  v1::ReviewItem item;
  if (!item.ParseFromString(select->ColumnBlob(0))) return Corrupt("review item");
  if (!select->ColumnIsNull(1)) item.set_human_score(select->ColumnDouble(1));
  item.set_reviewer(select->ColumnText(2));
  return item;
}

absl::StatusOr<v1::ReviewItem> EvalStore::LabelReviewItem(const std::string& tenant,
                                                          const std::string& id, double human_score,
                                                          const std::string& reviewer) {
  absl::MutexLock lock(&mu_);
  auto item = ReadReviewItem(tenant, id);
  if (!item.ok()) return item.status();
  auto update = db_->Prepare("UPDATE eval_review_items SET human_score = ?2, reviewer = ?3 WHERE id = ?1");
  if (!update.ok()) return update.status();
  update->BindText(1, id).Bind(2, human_score).BindText(3, reviewer);
  if (absl::Status status = update->Run(); !status.ok()) return status;
  return ReadReviewItem(tenant, id);
}

}  // namespace tessera::eval
