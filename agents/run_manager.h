// The agent runtime: stores graphs, starts runs and drives them step by step,
// one node per step, checkpointing each step to SQLite before the next starts.
// Its methods mirror tessera.agents.v1.AgentService, so the gRPC service is a
// thin adapter (tenant from the caller's credentials, Status -> grpc::Status).
//
// Steps. Step k executes one node: NODE_STARTED, the node's effects (model
// calls, tool calls, retrieval; each journaled in SQLite as it completes), the
// reducers fold its output into the state, the next node is chosen, and ONE
// transaction writes checkpoint k + the run row + the step's events. A process
// that dies mid-step re-executes only that step on recovery, and the journal
// returns the effects that had completed, so no tool call is repeated.
//
// Interrupts. A human node, or a tool node with requires_approval, stops the
// run (INTERRUPTED + PendingAction) before it executes. Resume (human) /
// Approve / Reject record the decision durably and the node then executes as
// the next step. Reject skips the tool: a MESSAGES output channel gets a tool
// message saying so; other output channels are left unchanged.
//
// Limits. A step beyond the graph's max_steps, or a visit beyond a node's
// max_visits, fails the run with an error naming the limit.
#ifndef TESSERA_AGENTS_RUN_MANAGER_H_
#define TESSERA_AGENTS_RUN_MANAGER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agents/chat_model.h"
#include "agents/graph.h"
#include "agents/retriever.h"
#include "agents/run_store.h"
#include "agents/tools/tool.h"
#include "tessera/agents/v1/agents.pb.h"

namespace tessera::agents {

struct RunManagerOptions {
  std::string database_path;
  std::shared_ptr<ToolRegistry> tools = std::make_shared<ToolRegistry>();
  std::shared_ptr<ModelRegistry> models = std::make_shared<ModelRegistry>();
  std::shared_ptr<Retriever> retriever;  // Needed by retrieve nodes.
  // false: StartRun/Resume/Approve/Reject drive the run on the calling thread
  // until it finishes or is interrupted. true: they return at once and a
  // background thread drives it (use WaitForRun or events).
  bool async = false;
  int max_react_rounds = 8;              // Model turns per LLM node with tools.
  absl::Duration default_tool_timeout = absl::Seconds(30);
  int default_tool_retries = 1;          // For tool calls made by LLM nodes.
  int max_subgraph_depth = 4;
};

class RunManager {
 public:
  using EventCallback = std::function<void(const ::tessera::agents::v1::RunEvent&)>;

  static absl::StatusOr<std::unique_ptr<RunManager>> Open(RunManagerOptions options);
  // Stops background drivers at their next step boundary and joins them. Runs
  // they were driving stay RUNNING in the database, exactly as after a crash;
  // RecoverRuns() continues them.
  ~RunManager();

  // Graphs. CreateGraph validates (tools, models and subgraphs against the
  // registries and this tenant's graphs) and stores a new version.
  absl::StatusOr<::tessera::agents::v1::Graph> CreateGraph(const std::string& tenant,
                                                         const ::tessera::agents::v1::CreateGraphRequest& request);
  absl::StatusOr<::tessera::agents::v1::Graph> GetGraph(const std::string& tenant, const std::string& id);
  absl::StatusOr<::tessera::agents::v1::ListGraphsResponse> ListGraphs(
      const std::string& tenant, const ::tessera::agents::v1::ListGraphsRequest& request);

  // Runs. With fork_run_id set, the new run starts from that run's checkpoint at
  // fork_step (0 = its latest) with the same graph snapshot; `input` is applied
  // on top with the channels' reducers.
  absl::StatusOr<::tessera::agents::v1::Run> StartRun(const std::string& tenant,
                                                     const ::tessera::agents::v1::StartRunRequest& request);
  absl::StatusOr<::tessera::agents::v1::Run> GetRun(const std::string& tenant, const std::string& run_id);
  absl::StatusOr<::tessera::agents::v1::Run> Resume(const std::string& tenant,
                                                   const ::tessera::agents::v1::ResumeRunRequest& request);
  absl::StatusOr<::tessera::agents::v1::Run> Approve(const std::string& tenant,
                                                    const ::tessera::agents::v1::ApproveActionRequest& request);
  absl::StatusOr<::tessera::agents::v1::Run> Reject(const std::string& tenant,
                                                   const ::tessera::agents::v1::RejectActionRequest& request);
  // Interrupted or orphaned runs are cancelled at once; a run being driven stops
  // at its next step boundary (this call waits for that, up to 10 s).
  absl::StatusOr<::tessera::agents::v1::Run> Cancel(const std::string& tenant,
                                                   const ::tessera::agents::v1::CancelRunRequest& request);
  // Re-executes a run from one of its checkpoints as a new run (step 0 = the
  // initial state). The original run is untouched.
  absl::StatusOr<::tessera::agents::v1::Run> Replay(const std::string& tenant, const std::string& run_id,
                                                   int64_t step);

  absl::StatusOr<::tessera::agents::v1::Checkpoint> GetCheckpoint(
      const std::string& tenant, const ::tessera::agents::v1::GetCheckpointRequest& request);
  absl::StatusOr<::tessera::agents::v1::ListCheckpointsResponse> ListCheckpoints(
      const std::string& tenant, const ::tessera::agents::v1::ListCheckpointsRequest& request);

  // Events: stored events with step > after_step and sequence > after_sequence
  // are delivered first, then live ones as steps commit, until Unsubscribe;
  // TOKEN events (model text as it is generated) are live only, never stored.
  // Callbacks run on driver threads and must be quick (copy into a queue for
  // streaming).
  absl::StatusOr<int64_t> Subscribe(const std::string& tenant, const std::string& run_id, int64_t after_step,
                                    int64_t after_sequence, EventCallback callback);
  void Unsubscribe(int64_t subscription_id);
  absl::StatusOr<std::vector<::tessera::agents::v1::RunEvent>> ListEvents(const std::string& tenant,
                                                                         const std::string& run_id,
                                                                         int64_t after_step,
                                                                         int64_t after_sequence = 0);

  // Drives every run left RUNNING by a crash (or a destroyed manager) from its
  // last checkpoint. Returns the (tenant, run id) pairs it picked up.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RecoverRuns();
  // Blocks until the run is no longer RUNNING or `timeout` passes.
  absl::StatusOr<::tessera::agents::v1::Run> WaitForRun(const std::string& tenant, const std::string& run_id,
                                                       absl::Duration timeout);

  RunStore* store() { return store_.get(); }

 private:
  friend class StepExecutor;
  RunManager(RunManagerOptions options, std::unique_ptr<RunStore> store)
      : options_(std::move(options)), store_(std::move(store)) {}

  struct Subscription {
    std::string tenant;
    std::string run_id;
    EventCallback callback;
  };

  // Starts driving (inline or on a thread). The caller has marked it active.
  void LaunchDriver(const std::string& tenant, const std::string& run_id);
  void DriveLoop(const std::string& tenant, const std::string& run_id);
  // Executes one step; false when the run stopped being RUNNING or must pause.
  absl::StatusOr<bool> DriveOneStep(const std::string& tenant, const std::string& run_id);
  // Marks the run active for driving; fails if already driven.
  absl::Status ClaimRun(const std::string& tenant, const std::string& run_id);
  void ReleaseRun(const std::string& tenant, const std::string& run_id);
  bool CancelRequested(const std::string& tenant, const std::string& run_id);

  absl::StatusOr<std::shared_ptr<const CompiledGraph>> CompileForRun(const RunRecord& record);
  absl::Status Commit(RunRecord& record, const std::optional<std::string>& checkpoint_node,
                      std::vector<::tessera::agents::v1::RunEvent> events);
  absl::Status FailRun(RunRecord& record, const std::string& node_id, const std::string& error);
  // Sends an event to the run's subscribers without storing it (TOKEN events).
  void PublishLive(const std::string& tenant, const std::string& run_id, const ::tessera::agents::v1::RunEvent& event);
  void Deliver(const std::string& tenant, const std::string& run_id,
               const std::vector<::tessera::agents::v1::RunEvent>& events);
  absl::StatusOr<::tessera::agents::v1::Run> FinishControlCall(const std::string& tenant, const std::string& run_id);
  absl::StatusOr<::tessera::agents::v1::Run> CreateForkedRun(const std::string& tenant, const std::string& source_run,
                                                            int64_t step, const Json& input);
  absl::StatusOr<::tessera::agents::v1::Run> CreateAndDrive(RunRecord record, const Json& input,
                                                           const std::string& checkpoint_node);
  // Applies a decision to an interrupted run and drives it.
  absl::StatusOr<::tessera::agents::v1::Run> ResolveInterrupt(const std::string& tenant, const std::string& run_id,
                                                             const std::string& action_id, bool tool_action,
                                                             Json resolution);

  RunManagerOptions options_;
  std::unique_ptr<RunStore> store_;

  std::mutex mu_;  // Guards active_, cancel_, threads_, shutting_down_.
  std::condition_variable idle_cv_;
  std::set<std::pair<std::string, std::string>> active_;
  std::set<std::pair<std::string, std::string>> cancel_;
  std::vector<std::thread> threads_;
  // Background drivers that have returned; joined at the next launch so that
  // finished threads (and their stacks) do not pile up over a long uptime.
  std::vector<std::thread::id> finished_drivers_;
  bool shutting_down_ = false;

  std::mutex subscribers_mu_;  // Held while publishing, so replay + live never interleave.
  std::map<int64_t, Subscription> subscribers_;
  int64_t next_subscription_ = 1;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_RUN_MANAGER_H_
