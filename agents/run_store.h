// Durable storage of agent graphs, runs, per-step checkpoints, the side-effect
// journal and run events, in one SQLite database (WAL, synchronous=FULL).
// Everything is keyed by tenant: a run or graph of another tenant is NOT_FOUND.
//
// The crash-safety contract the engine relies on:
//  - CommitStep writes the step's checkpoint, the run row and the step's events
//    in ONE transaction, fsynced before it returns;
//  - RecordEffect writes one completed side effect (model reply, tool result,
//    retrieval) as soon as it completes, so a step re-executed after a crash
//    reuses it instead of repeating it.
#ifndef TESSERA_AGENTS_RUN_STORE_H_
#define TESSERA_AGENTS_RUN_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json.h"
#include "common/sqlite.h"
#include "tessera/agents/v1/agents.pb.h"

namespace tessera::agents {

// The engine's view of a run (the Run message plus what is needed to continue).
struct RunRecord {
  std::string tenant;
  ::tessera::agents::v1::Run run;      // id, graph_id, status, state, step, error, pending, usage, times
  ::tessera::agents::v1::Graph graph;  // The definition the run executes (snapshot).
  std::string next_node;               // Node to execute next; "__end__" when done.
  std::map<std::string, int> visits;   // Node id -> times executed.
  // A human decision not yet consumed by a step: {"kind": "resume"|"approve"|"reject", ...}.
  Json resolution;                     // null when none.
  std::string parent_run_id;           // Fork provenance.
  int64_t parent_step = 0;
};

struct CheckpointRecord {
  ::tessera::agents::v1::Checkpoint checkpoint;  // run_id, step, node_id, state, time
  ::tessera::agents::v1::Run run;                // The run as of this checkpoint.
  std::string next_node;
  std::map<std::string, int> visits;
};

class RunStore {
 public:
  static absl::StatusOr<std::unique_ptr<RunStore>> Open(const std::string& path);

  // Graphs: Put assigns version = previous version + 1 (1 for a new id).
  absl::StatusOr<::tessera::agents::v1::Graph> PutGraph(const std::string& tenant,
                                                      ::tessera::agents::v1::Graph graph);
  absl::StatusOr<::tessera::agents::v1::Graph> GetGraph(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<::tessera::agents::v1::Graph>> ListGraphs(const std::string& tenant, int64_t offset,
                                                                      int64_t limit, int64_t* total);

  // Inserts a new run with its first checkpoint (step = run.step) and events.
  // Events get their sequence numbers written into them.
  absl::Status CreateRun(const RunRecord& record, const std::string& node_id,
                         std::vector<::tessera::agents::v1::RunEvent>* events);
  // Writes the run row; with `node_id` set also the checkpoint for run.step.
  // Events get the next sequence numbers, written into them. One transaction.
  absl::Status CommitStep(const RunRecord& record, const std::optional<std::string>& checkpoint_node_id,
                          std::vector<::tessera::agents::v1::RunEvent>* events);

  absl::StatusOr<RunRecord> GetRun(const std::string& tenant, const std::string& run_id);
  // (tenant, run id) of every run with this status (crash recovery).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RunsWithStatus(
      ::tessera::agents::v1::RunStatus status);

  // step >= 0: that step's checkpoint (0 = the initial state); kLatestStep: the latest.
  static constexpr int64_t kLatestStep = -1;
  absl::StatusOr<CheckpointRecord> GetCheckpoint(const std::string& tenant, const std::string& run_id,
                                                 int64_t step);
  absl::StatusOr<std::vector<CheckpointRecord>> ListCheckpoints(const std::string& tenant,
                                                                const std::string& run_id, int64_t offset,
                                                                int64_t limit, int64_t* total);

  // The journal of completed side effects of (run, step), by sequence number.
  // Lookup returns nullopt when nothing (or something for another request) is stored.
  absl::StatusOr<std::optional<Json>> LookupEffect(const std::string& tenant, const std::string& run_id,
                                                   int64_t step, int seq, const std::string& request_hash);
  absl::Status RecordEffect(const std::string& tenant, const std::string& run_id, int64_t step, int seq,
                            const std::string& request_hash, const std::string& kind, const Json& result);
  // Number of journaled effects of a step (tests and diagnostics).
  absl::StatusOr<int> CountEffects(const std::string& tenant, const std::string& run_id, int64_t step);

  // Events with step > after_step (after_step < 0: all) and sequence >
  // after_sequence, in order.
  absl::StatusOr<std::vector<::tessera::agents::v1::RunEvent>> ListEvents(const std::string& tenant,
                                                                          const std::string& run_id,
                                                                          int64_t after_step,
                                                                          int64_t after_sequence = 0);

 private:
  explicit RunStore(std::unique_ptr<SqliteDatabase> db) : db_(std::move(db)) {}
  absl::Status WriteRunRow(const RunRecord& record);
  absl::Status WriteCheckpoint(const RunRecord& record, const std::string& node_id);
  absl::Status WriteEvents(const std::string& tenant, const std::string& run_id,
                           std::vector<::tessera::agents::v1::RunEvent>* events);

  std::mutex mu_;  // One connection, serialised.
  std::unique_ptr<SqliteDatabase> db_;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_RUN_STORE_H_
