// Agent-graph targets of evaluation jobs (target.graph_id): each case's input
// is given to a run of the graph in the job's tenant and the run's answer is
// the case's output.
//
// Input: the graph's first STRING channel among question, input, query,
// prompt, task; else its MESSAGES channel (one user message). Output: the
// first non-empty STRING channel among answer, final, output, response,
// result; else the last assistant message. A STRING channel "context" (or
// "contexts" as a list) becomes the case's contexts when it has none, so RAG
// metrics apply to RAG graphs.
#ifndef TESSERA_EVAL_GRAPH_TARGET_H_
#define TESSERA_EVAL_GRAPH_TARGET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agents/chat_model.h"
#include "agents/run_manager.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

struct GraphOutput {
  std::string output;
  std::vector<std::string> contexts;
  agents::Usage usage;
  std::string run_id;
};

class GraphRunner {
 public:
  virtual ~GraphRunner() = default;
  // NotFound naming the graph when the tenant has none by that id;
  // InvalidArgument when its channels offer no input or output (see above).
  virtual absl::Status CheckGraph(const std::string& tenant, const std::string& graph_id) = 0;
  // Runs the graph on the case's input to its end. A run that fails, is
  // cancelled or stops for a human decision is an error naming the run.
  virtual absl::StatusOr<GraphOutput> Run(const std::string& tenant, const std::string& graph_id,
                                          const v1::EvalCase& c) = 0;
};

// Graphs of this process's agents service (the server wires its RunManager).
class RunManagerGraphRunner final : public GraphRunner {
 public:
  // `runs` must outlive this. `timeout`: the longest a run may take.
  explicit RunManagerGraphRunner(agents::RunManager* runs, absl::Duration timeout = absl::Minutes(10))
      : runs_(runs), timeout_(timeout) {}

  absl::Status CheckGraph(const std::string& tenant, const std::string& graph_id) override;
  absl::StatusOr<GraphOutput> Run(const std::string& tenant, const std::string& graph_id,
                                  const v1::EvalCase& c) override;

 private:
  agents::RunManager* runs_;
  absl::Duration timeout_;
};

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_GRAPH_TARGET_H_
