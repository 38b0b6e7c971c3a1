#include "agents/run_store.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"

namespace tessera::agents {

namespace v1 = ::tessera::agents::v1;

namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS agent_graphs (
  tenant TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, definition BLOB NOT NULL,
  PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS agent_runs (
  tenant TEXT NOT NULL, id TEXT NOT NULL, graph_id TEXT NOT NULL, status INTEGER NOT NULL,
  run BLOB NOT NULL, graph BLOB NOT NULL, next_node TEXT NOT NULL, visits TEXT NOT NULL,
  resolution TEXT NOT NULL, parent_run TEXT NOT NULL, parent_step INTEGER NOT NULL,
  PRIMARY KEY (tenant, id));
CREATE INDEX IF NOT EXISTS agent_runs_by_status ON agent_runs (status);
CREATE TABLE IF NOT EXISTS agent_checkpoints (
  tenant TEXT NOT NULL, run_id TEXT NOT NULL, step INTEGER NOT NULL, node_id TEXT NOT NULL,
  run BLOB NOT NULL, next_node TEXT NOT NULL, visits TEXT NOT NULL, time_micros INTEGER NOT NULL,
  PRIMARY KEY (tenant, run_id, step));
CREATE TABLE IF NOT EXISTS agent_effects (
  tenant TEXT NOT NULL, run_id TEXT NOT NULL, step INTEGER NOT NULL, seq INTEGER NOT NULL,
  request_hash TEXT NOT NULL, kind TEXT NOT NULL, result TEXT NOT NULL,
  PRIMARY KEY (tenant, run_id, step, seq));
CREATE TABLE IF NOT EXISTS agent_events (
  tenant TEXT NOT NULL, run_id TEXT NOT NULL, seq INTEGER NOT NULL, step INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (tenant, run_id, seq));
)sql";

std::string VisitsToText(const std::map<std::string, int>& visits) {
  Json out = Json::object();
  for (const auto& [node, count] : visits) out[node] = count;
  return DumpJson(out);
}

std::map<std::string, int> VisitsFromText(const std::string& text) {
  std::map<std::string, int> visits;
  absl::StatusOr<Json> parsed = ParseJson(text, "visits");
  if (!parsed.ok() || !parsed->is_object()) return visits;
  for (auto it = parsed->begin(); it != parsed->end(); ++it) {
    if (it.value().is_number_integer()) visits[it.key()] = it.value().get<int>();
  }
  return visits;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("agent store: cannot decode ", what));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunStore>> RunStore::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteDatabase>> db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  absl::Status status = (*db)->Execute(kSchema);
  if (!status.ok()) return status;
  return std::unique_ptr<RunStore>(new RunStore(std::move(*db)));
}

absl::StatusOr<v1::Graph> RunStore::PutGraph(const std::string& tenant, v1::Graph graph) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status status = InTransaction(db_.get(), [&]() -> absl::Status {
    absl::StatusOr<SqliteStatement> select =
        db_->Prepare("SELECT version FROM agent_graphs WHERE tenant = ?1 AND id = ?2");
    if (!select.ok()) return select.status();
    select->BindText(1, tenant).BindText(2, graph.id());
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok()) return row.status();
    graph.set_version(*row ? select->ColumnInt(0) + 1 : 1);
    absl::StatusOr<SqliteStatement> upsert =
        db_->Prepare("INSERT OR REPLACE INTO agent_graphs (tenant, id, version, definition) VALUES (?1, ?2, ?3, ?4)");
    if (!upsert.ok()) return upsert.status();
    upsert->BindText(1, tenant).BindText(2, graph.id()).Bind(3, graph.version()).BindBlob(4, graph.SerializeAsString());
    return upsert->Run();
  });
  if (!status.ok()) return status;
  return graph;
}

absl::StatusOr<v1::Graph> RunStore::GetGraph(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> select =
      db_->Prepare("SELECT definition FROM agent_graphs WHERE tenant = ?1 AND id = ?2");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, id);
  absl::StatusOr<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("graph '", id, "' not found"));
  v1::Graph graph;
  if (!graph.ParseFromString(select->ColumnBlob(0))) return Corrupt("graph");
  return graph;
}

absl::StatusOr<std::vector<v1::Graph>> RunStore::ListGraphs(const std::string& tenant, int64_t offset,
                                                           int64_t limit, int64_t* total) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> count = db_->Prepare("SELECT COUNT(*) FROM agent_graphs WHERE tenant = ?1");
  if (!count.ok()) return count.status();
  count->BindText(1, tenant);
  absl::StatusOr<bool> counted = count->Step();
  if (!counted.ok()) return counted.status();
  *total = count->ColumnInt(0);
  absl::StatusOr<SqliteStatement> select = db_->Prepare(
      "SELECT definition FROM agent_graphs WHERE tenant = ?1 ORDER BY id LIMIT ?2 OFFSET ?3");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).Bind(2, limit).Bind(3, offset);
  std::vector<v1::Graph> graphs;
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    v1::Graph graph;
    if (!graph.ParseFromString(select->ColumnBlob(0))) return Corrupt("graph");
    graphs.push_back(std::move(graph));
  }
  return graphs;
}

absl::Status RunStore::WriteRunRow(const RunRecord& record) {
  absl::StatusOr<SqliteStatement> upsert = db_->Prepare(
      "INSERT OR REPLACE INTO agent_runs (tenant, id, graph_id, status, run, graph, next_node, visits, "
      "resolution, parent_run, parent_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!upsert.ok()) return upsert.status();
  upsert->BindText(1, record.tenant)
      .BindText(2, record.run.id())
      .BindText(3, record.run.graph_id())
      .Bind(4, static_cast<int64_t>(record.run.status()))
      .BindBlob(5, record.run.SerializeAsString())
      .BindBlob(6, record.graph.SerializeAsString())
      .BindText(7, record.next_node)
      .BindText(8, VisitsToText(record.visits))
      .BindText(9, DumpJson(record.resolution))
      .BindText(10, record.parent_run_id)
      .Bind(11, record.parent_step);
  return upsert->Run();
}

absl::Status RunStore::WriteCheckpoint(const RunRecord& record, const std::string& node_id) {
  absl::StatusOr<SqliteStatement> insert = db_->Prepare(
      "INSERT OR REPLACE INTO agent_checkpoints (tenant, run_id, step, node_id, run, next_node, visits, "
      "time_micros) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, record.tenant)
      .BindText(2, record.run.id())
      .Bind(3, record.run.step())
      .BindText(4, node_id)
      .BindBlob(5, record.run.SerializeAsString())
      .BindText(6, record.next_node)
      .BindText(7, VisitsToText(record.visits))
      .Bind(8, absl::ToUnixMicros(absl::Now()));
  return insert->Run();
}

absl::Status RunStore::WriteEvents(const std::string& tenant, const std::string& run_id,
                                   std::vector<v1::RunEvent>* events) {
  if (events->empty()) return absl::OkStatus();
  absl::StatusOr<SqliteStatement> next = db_->Prepare(
      "SELECT COALESCE(MAX(seq), 0) FROM agent_events WHERE tenant = ?1 AND run_id = ?2");
  if (!next.ok()) return next.status();
  next->BindText(1, tenant).BindText(2, run_id);
  absl::StatusOr<bool> row = next->Step();
  if (!row.ok()) return row.status();
  int64_t seq = next->ColumnInt(0);
  absl::StatusOr<SqliteStatement> insert = db_->Prepare(
      "INSERT INTO agent_events (tenant, run_id, seq, step, event) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!insert.ok()) return insert.status();
  for (v1::RunEvent& event : *events) {
    event.set_sequence(++seq);
    insert->Reset();
    insert->BindText(1, tenant).BindText(2, run_id).Bind(3, seq).Bind(4, event.step()).BindBlob(5, event.SerializeAsString());
    absl::Status status = insert->Run();
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status RunStore::CreateRun(const RunRecord& record, const std::string& node_id,
                                 std::vector<v1::RunEvent>* events) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(db_.get(), [&]() -> absl::Status {
    absl::StatusOr<SqliteStatement> exists =
        db_->Prepare("SELECT 1 FROM agent_runs WHERE tenant = ?1 AND id = ?2");
    if (!exists.ok()) return exists.status();
    exists->BindText(1, record.tenant).BindText(2, record.run.id());
    absl::StatusOr<bool> row = exists->Step();
    if (!row.ok()) return row.status();
    if (*row) return absl::AlreadyExistsError(absl::StrCat("run '", record.run.id(), "' exists"));
    absl::Status status = WriteRunRow(record);
    if (status.ok()) status = WriteCheckpoint(record, node_id);
    if (status.ok()) status = WriteEvents(record.tenant, record.run.id(), events);
    return status;
  });
}

absl::Status RunStore::CommitStep(const RunRecord& record, const std::optional<std::string>& checkpoint_node_id,
                                  std::vector<v1::RunEvent>* events) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(db_.get(), [&]() -> absl::Status {
    absl::Status status = WriteRunRow(record);
    if (status.ok() && checkpoint_node_id.has_value()) status = WriteCheckpoint(record, *checkpoint_node_id);
    if (status.ok()) status = WriteEvents(record.tenant, record.run.id(), events);
    return status;
  });
}

absl::StatusOr<RunRecord> RunStore::GetRun(const std::string& tenant, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> select = db_->Prepare(
      "SELECT run, graph, next_node, visits, resolution, parent_run, parent_step FROM agent_runs "
      "WHERE tenant = ?1 AND id = ?2");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, run_id);
  absl::StatusOr<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("run '", run_id, "' not found"));
  RunRecord record;
  record.tenant = tenant;
  if (!record.run.ParseFromString(select->ColumnBlob(0))) return Corrupt("run");
  if (!record.graph.ParseFromString(select->ColumnBlob(1))) return Corrupt("run graph");
  record.next_node = select->ColumnText(2);
  record.visits = VisitsFromText(select->ColumnText(3));
  absl::StatusOr<Json> resolution = ParseJson(select->ColumnText(4), "resolution");
  if (!resolution.ok()) return Corrupt("run resolution");
  record.resolution = std::move(*resolution);
  record.parent_run_id = select->ColumnText(5);
  record.parent_step = select->ColumnInt(6);
  return record;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RunStore::RunsWithStatus(v1::RunStatus status) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> select =
      db_->Prepare("SELECT tenant, id FROM agent_runs WHERE status = ?1 ORDER BY tenant, id");
  if (!select.ok()) return select.status();
  select->Bind(1, static_cast<int64_t>(status));
  std::vector<std::pair<std::string, std::string>> runs;
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    runs.emplace_back(select->ColumnText(0), select->ColumnText(1));
  }
  return runs;
}

namespace {

absl::StatusOr<CheckpointRecord> ReadCheckpoint(const SqliteStatement& row) {
  // Columns: step, node_id, run, next_node, visits, time_micros.
  CheckpointRecord record;
  if (!record.run.ParseFromString(row.ColumnBlob(2))) return Corrupt("checkpoint");
  record.next_node = row.ColumnText(3);
  record.visits = VisitsFromText(row.ColumnText(4));
  v1::Checkpoint& checkpoint = record.checkpoint;
  checkpoint.set_run_id(record.run.id());
  checkpoint.set_step(row.ColumnInt(0));
  checkpoint.set_node_id(row.ColumnText(1));
  *checkpoint.mutable_state() = record.run.state();
  *checkpoint.mutable_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(row.ColumnInt(5));
  return record;
}

}  // namespace

absl::StatusOr<CheckpointRecord> RunStore::GetCheckpoint(const std::string& tenant, const std::string& run_id,
                                                         int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> select = db_->Prepare(
      step >= 0 ? "SELECT step, node_id, run, next_node, visits, time_micros FROM agent_checkpoints "
                 "WHERE tenant = ?1 AND run_id = ?2 AND step = ?3"
               : "SELECT step, node_id, run, next_node, visits, time_micros FROM agent_checkpoints "
                 "WHERE tenant = ?1 AND run_id = ?2 ORDER BY step DESC LIMIT 1");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, run_id);
  if (step >= 0) select->Bind(3, step);
  absl::StatusOr<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return absl::NotFoundError(step >= 0 ? absl::StrCat("run '", run_id, "' has no checkpoint for step ", step)
                                        : absl::StrCat("run '", run_id, "' has no checkpoint"));
  }
  return ReadCheckpoint(*select);
}

absl::StatusOr<std::vector<CheckpointRecord>> RunStore::ListCheckpoints(const std::string& tenant,
                                                                        const std::string& run_id, int64_t offset,
                                                                        int64_t limit, int64_t* total) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> count =
      db_->Prepare("SELECT COUNT(*) FROM agent_checkpoints WHERE tenant = ?1 AND run_id = ?2");
  if (!count.ok()) return count.status();
  count->BindText(1, tenant).BindText(2, run_id);
  absl::StatusOr<bool> counted = count->Step();
  if (!counted.ok()) return counted.status();
  *total = count->ColumnInt(0);
  absl::StatusOr<SqliteStatement> select = db_->Prepare(
      "SELECT step, node_id, run, next_node, visits, time_micros FROM agent_checkpoints "
      "WHERE tenant = ?1 AND run_id = ?2 ORDER BY step LIMIT ?3 OFFSET ?4");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, run_id).Bind(3, limit).Bind(4, offset);
  std::vector<CheckpointRecord> out;
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    absl::StatusOr<CheckpointRecord> record = ReadCheckpoint(*select);
    if (!record.ok()) return record.status();
    out.push_back(std::move(*record));
  }
  return out;
}

absl::StatusOr<std::optional<Json>> RunStore::LookupEffect(const std::string& tenant, const std::string& run_id,
                                                           int64_t step, int seq, const std::string& request_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> select = db_->Prepare(
      "SELECT request_hash, result FROM agent_effects WHERE tenant = ?1 AND run_id = ?2 AND step = ?3 AND seq = ?4");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, run_id).Bind(3, step).Bind(4, static_cast<int64_t>(seq));
  absl::StatusOr<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row || select->ColumnText(0) != request_hash) return std::optional<Json>();
  absl::StatusOr<Json> result = ParseJson(select->ColumnText(1), "journaled effect");
  if (!result.ok()) return Corrupt("journaled effect");
  return std::optional<Json>(std::move(*result));
}

absl::Status RunStore::RecordEffect(const std::string& tenant, const std::string& run_id, int64_t step, int seq,
                                    const std::string& request_hash, const std::string& kind, const Json& result) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> insert = db_->Prepare(
      "INSERT OR REPLACE INTO agent_effects (tenant, run_id, step, seq, request_hash, kind, result) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, tenant)
      .BindText(2, run_id)
      .Bind(3, step)
      .Bind(4, static_cast<int64_t>(seq))
      .BindText(5, request_hash)
      .BindText(6, kind)
      .BindText(7, DumpJson(result));
  return insert->Run();  // Autocommit: durable (synchronous=FULL) on return.
}

absl::StatusOr<int> RunStore::CountEffects(const std::string& tenant, const std::string& run_id, int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> select = db_->Prepare(
      "SELECT COUNT(*) FROM agent_effects WHERE tenant = ?1 AND run_id = ?2 AND step = ?3");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, run_id).Bind(3, step);
  absl::StatusOr<bool> row = select->Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(select->ColumnInt(0));
}

absl::StatusOr<std::vector<v1::RunEvent>> RunStore::ListEvents(const std::string& tenant, const std::string& run_id,
                                                              int64_t after_step, int64_t after_sequence) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<SqliteStatement> select = db_->Prepare(
      "SELECT event, seq FROM agent_events WHERE tenant = ?1 AND run_id = ?2 AND step > ?3 AND seq > ?4 "
      "ORDER BY seq");
  if (!select.ok()) return select.status();
  select->BindText(1, tenant).BindText(2, run_id).Bind(3, after_step).Bind(4, after_sequence);
  std::vector<v1::RunEvent> events;
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    v1::RunEvent event;
    if (!event.ParseFromString(select->ColumnBlob(0))) return Corrupt("event");
    event.set_sequence(select->ColumnInt(1));  // Events stored before sequences were recorded lack it.
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace tessera::agents
