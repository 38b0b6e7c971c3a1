// Agent graph definitions: loading (proto message or its JSON form, one schema
// via protobuf's JSON mapping) and validation into an immutable CompiledGraph
// with every template and expression parsed once.
//
// Execution semantics the validator enforces:
//  - `start` names a node; "__end__" is the implicit end node.
//  - A non-router node continues along its outgoing edges, tried in declaration
//    order: the first edge whose condition is empty or true is taken (no fan-out).
//  - A router node has no edges; its routes (first true condition) and
//    default_target pick the next node, or the model does when `model` is set.
//  - max_steps: 0 means kDefaultMaxSteps; at most kMaxStepsLimit. max_visits: 0
//    means unlimited (max_steps still bounds the run).
#ifndef TESSERA_AGENTS_GRAPH_H_
#define TESSERA_AGENTS_GRAPH_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agents/chat_model.h"
#include "agents/expression.h"
#include "agents/state.h"
#include "agents/tools/tool.h"
#include "tessera/agents/v1/agents.pb.h"

namespace tessera::agents {

inline constexpr char kEndNode[] = "__end__";
inline constexpr int kDefaultMaxSteps = 50;
inline constexpr int kMaxStepsLimit = 10000;
inline constexpr int kMaxVisitsLimit = 10000;

struct CompiledEdge {
  std::string from;
  std::string to;
  std::shared_ptr<Expression> condition;  // Null = always.
};

struct CompiledRoute {
  std::shared_ptr<Expression> condition;
  std::string target;
};

struct CompiledNode {
  ::tessera::agents::v1::Node proto;
  std::vector<CompiledEdge> edges;  // Outgoing, in declaration order.
  // Parsed forms of the node's templates and expressions (those it has).
  std::shared_ptr<Template> prompt;         // llm, router (model), human
  std::shared_ptr<Template> system_prompt;  // llm
  std::map<std::string, std::shared_ptr<Expression>> tool_arguments;
  std::shared_ptr<Expression> query;  // retrieve
  std::vector<CompiledRoute> routes;  // router
};

// What the validator may check names against; null members skip those checks.
struct GraphValidationContext {
  const ToolRegistry* tools = nullptr;
  const ModelRegistry* models = nullptr;
  // True when a graph with this id can be used as a subgraph.
  std::function<bool(const std::string&)> graph_exists;
};

class GraphCompiler;

class CompiledGraph {
 public:
  const ::tessera::agents::v1::Graph& proto() const { return proto_; }
  const std::string& id() const { return proto_.id(); }
  const StateSchema& schema() const { return schema_; }
  const CompiledNode* node(const std::string& id) const;
  const std::string& start() const { return proto_.start(); }
  int max_steps() const { return max_steps_; }

 private:
  friend class GraphCompiler;
  ::tessera::agents::v1::Graph proto_;
  StateSchema schema_;
  std::map<std::string, CompiledNode> nodes_;
  int max_steps_ = kDefaultMaxSteps;
};

// JSON or YAML text (the protobuf JSON mapping of tessera.agents.v1.Graph;
// field names in snake_case or lowerCamelCase, enums by name) -> message.
// Unknown fields are errors.
absl::StatusOr<::tessera::agents::v1::Graph> ParseGraphDefinition(absl::string_view text);
std::string GraphToJson(const ::tessera::agents::v1::Graph& graph);

// Validates `graph`; on failure the InvalidArgument message lists every problem
// found ("; "-separated), each naming its node, edge or channel.
absl::StatusOr<std::shared_ptr<const CompiledGraph>> CompileGraph(
    const ::tessera::agents::v1::Graph& graph, const GraphValidationContext& context);

// ParseGraphDefinition + CompileGraph.
absl::StatusOr<std::shared_ptr<const CompiledGraph>> LoadGraphDefinition(absl::string_view text,
                                                                   const GraphValidationContext& context);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_GRAPH_H_
