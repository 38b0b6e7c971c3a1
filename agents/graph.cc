#include "agents/graph.h"

#include <deque>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/yaml.h"
#include "google/protobuf/util/json_util.h"

namespace tessera::agents {

const CompiledNode* CompiledGraph::node(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

absl::StatusOr<v1::Graph> ParseGraphDefinition(absl::string_view text) {
  absl::StatusOr<Json> definition = ParseJsonOrYaml(text, "graph definition");
  if (!definition.ok()) return definition.status();
  const std::string json = definition->dump();
  v1::Graph graph;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, &graph, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("graph definition: ", std::string(status.message())));
  }
  return graph;
}

std::string GraphToJson(const v1::Graph& graph) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(graph, &out, options);
  return out;
}

namespace {

// Collects every problem so one round of fixes suffices.
class Problems {
 public:
  void Add(std::string problem) { problems_.push_back(std::move(problem)); }
  bool empty() const { return problems_.empty(); }
  absl::Status ToStatus() const {
    return absl::InvalidArgumentError(absl::StrCat("invalid graph: ", absl::StrJoin(problems_, "; ")));
  }

 private:
  std::vector<std::string> problems_;
};

std::string NodeLabel(const std::string& id) { return absl::StrCat("node '", id, "'"); }

// Which tool result types fit which channel (see ToolNode output rules in the README).
bool ToolResultFits(const std::string& result_type, const ChannelSpec& channel) {
  if (result_type == "any") return true;
  if (channel.type == v1::Channel::JSON) return true;
  if (channel.type == v1::Channel::LIST && channel.reducer == v1::Channel::APPEND) return true;
  if (channel.type == v1::Channel::LIST) return result_type == "array";
  if (channel.type == v1::Channel::STRING) return result_type == "string";
  if (channel.type == v1::Channel::NUMBER) return result_type == "number";
  if (channel.type == v1::Channel::MESSAGES) return result_type == "string" || result_type == "object";
  return false;
}

}  // namespace

// Declared a friend of CompiledGraph so it can fill it in.
class GraphCompiler {
 public:
  GraphCompiler(const v1::Graph& graph, const GraphValidationContext& context) : graph_(graph), context_(context) {}

  absl::StatusOr<std::shared_ptr<const CompiledGraph>> Run(std::shared_ptr<CompiledGraph> out) {
    out_ = out.get();
    out_->proto_ = graph_;
    if (graph_.id().empty()) problems_.Add("graph id is empty");
    CheckLimits();
    CompileChannels();
    CollectNodes();
    CompileEdges();
    for (auto& [id, node] : out_->nodes_) CompileNode(&node);
    CheckStartAndReachability();
    if (!problems_.empty()) return problems_.ToStatus();
    return std::shared_ptr<const CompiledGraph>(std::move(out));
  }

 private:
  void CheckLimits() {
    if (graph_.max_steps() < 0 || graph_.max_steps() > kMaxStepsLimit) {
      problems_.Add(absl::StrCat("max_steps ", graph_.max_steps(), " is out of range [0, ", kMaxStepsLimit, "]"));
    }
    out_->max_steps_ = graph_.max_steps() == 0 ? kDefaultMaxSteps : graph_.max_steps();
  }

  void CompileChannels() {
    for (const v1::Channel& channel : graph_.channels()) {
      absl::StatusOr<ChannelSpec> spec = MakeChannelSpec(channel);
      if (!spec.ok()) {
        problems_.Add(std::string(spec.status().message()));
        continue;
      }
      absl::Status added = out_->schema_.AddChannel(std::move(*spec));
      if (!added.ok()) problems_.Add(std::string(added.message()));
    }
  }

  void CollectNodes() {
    for (const v1::Node& node : graph_.nodes()) {
      if (node.id().empty()) {
        problems_.Add("a node has an empty id");
        continue;
      }
      if (node.id() == kEndNode) {
        problems_.Add(absl::StrCat("node id '", kEndNode, "' is reserved for the end node"));
        continue;
      }
      if (node.kind_case() == v1::Node::KIND_NOT_SET) {
        problems_.Add(absl::StrCat(NodeLabel(node.id()), " has no kind (llm, tool, retrieve, router, human or subgraph)"));
      }
      if (node.max_visits() < 0 || node.max_visits() > kMaxVisitsLimit) {
        problems_.Add(absl::StrCat(NodeLabel(node.id()), ": max_visits ", node.max_visits(), " is out of range [0, ",
                                   kMaxVisitsLimit, "]"));
      }
      CompiledNode compiled;
      compiled.proto = node;
      if (!out_->nodes_.emplace(node.id(), std::move(compiled)).second) {
        problems_.Add(absl::StrCat("duplicate node id '", node.id(), "'"));
      }
    }
  }

  bool KnownTarget(const std::string& id) const { return id == kEndNode || out_->nodes_.count(id) > 0; }

  void CompileEdges() {
    int index = 0;
    for (const v1::Edge& edge : graph_.edges()) {
      ++index;
      std::string label = absl::StrCat("edge #", index, " (", edge.from(), " -> ", edge.to(), ")");
      bool ok = true;
      if (edge.from().empty()) {
        problems_.Add(absl::StrCat(label, " has no 'from' node"));
        ok = false;
      } else if (edge.from() == kEndNode) {
        problems_.Add(absl::StrCat(label, " leaves the end node"));
        ok = false;
      } else if (out_->nodes_.count(edge.from()) == 0) {
        problems_.Add(absl::StrCat(label, ": unknown node '", edge.from(), "'"));
        ok = false;
      }
      if (edge.to().empty()) {
        problems_.Add(absl::StrCat(label, " leads nowhere (empty 'to'; use '", kEndNode, "' to finish)"));
        ok = false;
      } else if (!KnownTarget(edge.to())) {
        problems_.Add(absl::StrCat(label, ": unknown node '", edge.to(), "'"));
        ok = false;
      }
      CompiledEdge compiled{edge.from(), edge.to(), nullptr};
      if (!edge.condition().empty()) {
        compiled.condition = ParseExpression(edge.condition(), label + " condition");
        if (compiled.condition == nullptr) ok = false;
      }
      if (!ok) continue;
      CompiledNode& from = out_->nodes_.at(edge.from());
      if (from.proto.has_router()) {
        problems_.Add(absl::StrCat(label, ": router ", NodeLabel(edge.from()),
                                   " cannot have edges; it chooses its target with routes"));
        continue;
      }
      from.edges.push_back(std::move(compiled));
    }
  }

  // Parses and checks the channels an expression reads; null on error.
  std::shared_ptr<Expression> ParseExpression(const std::string& text, const std::string& where) {
    absl::StatusOr<Expression> parsed = Expression::Parse(text);
    if (!parsed.ok()) {
      problems_.Add(absl::StrCat(where, ": ", parsed.status().message()));
      return nullptr;
    }
    CheckChannelsDeclared(parsed->referenced_channels(), where);
    return std::make_shared<Expression>(std::move(*parsed));
  }

  std::shared_ptr<Template> ParseTemplate(const std::string& text, const std::string& where) {
    absl::StatusOr<Template> parsed = Template::Parse(text);
    if (!parsed.ok()) {
      problems_.Add(absl::StrCat(where, ": ", parsed.status().message()));
      return nullptr;
    }
    CheckChannelsDeclared(parsed->ReferencedChannels(), where);
    return std::make_shared<Template>(std::move(*parsed));
  }

  void CheckChannelsDeclared(const std::set<std::string>& channels, const std::string& where) {
    for (const std::string& channel : channels) {
      if (out_->schema_.Find(channel) == nullptr) {
        problems_.Add(absl::StrCat(where, " reads undeclared channel '", channel, "'"));
      }
    }
  }

  const ChannelSpec* OutputChannel(const std::string& node_id, const std::string& channel, bool required) {
    if (channel.empty()) {
      if (required) problems_.Add(absl::StrCat(NodeLabel(node_id), " has no output_channel"));
      return nullptr;
    }
    const ChannelSpec* spec = out_->schema_.Find(channel);
    if (spec == nullptr) {
      problems_.Add(absl::StrCat(NodeLabel(node_id), " writes undeclared channel '", channel, "'"));
    }
    return spec;
  }

  void CheckModel(const std::string& node_id, const std::string& model) {
    if (context_.models != nullptr && context_.models->Find(model) == nullptr) {
      problems_.Add(absl::StrCat(NodeLabel(node_id), ": unknown model '", model.empty() ? "(default)" : model, "'"));
    }
  }

  void CompileNode(CompiledNode* node) {
    const v1::Node& proto = node->proto;
    const std::string& id = proto.id();
    std::string label = NodeLabel(id);
    switch (proto.kind_case()) {
      case v1::Node::kLlm: {
        const v1::LlmNode& llm = proto.llm();
        CheckModel(id, llm.model());
        if (!llm.prompt_template().empty()) node->prompt = ParseTemplate(llm.prompt_template(), label + " prompt_template");
        if (!llm.system_prompt().empty()) node->system_prompt = ParseTemplate(llm.system_prompt(), label + " system_prompt");
        const ChannelSpec* out = OutputChannel(id, llm.output_channel(), true);
        if (out != nullptr && out->type == v1::Channel::NUMBER) {
          problems_.Add(absl::StrCat(label, ": an LLM writes text, but output channel '", out->name, "' is NUMBER"));
        }
        if (llm.prompt_template().empty() && (out == nullptr || out->type != v1::Channel::MESSAGES)) {
          problems_.Add(absl::StrCat(label, " needs a prompt_template or a MESSAGES output channel holding the conversation"));
        }
        std::set<std::string> seen;
        for (const std::string& tool : llm.tools()) {
          if (!seen.insert(tool).second) problems_.Add(absl::StrCat(label, " lists tool '", tool, "' twice"));
          if (context_.tools != nullptr && context_.tools->Find(tool) == nullptr) {
            problems_.Add(absl::StrCat(label, ": unknown tool '", tool, "'"));
          }
        }
        break;
      }
      case v1::Node::kTool: {
        const v1::ToolNode& tool_node = proto.tool();
        std::shared_ptr<Tool> tool;
        if (tool_node.tool().empty()) {
          problems_.Add(absl::StrCat(label, " names no tool"));
        } else if (context_.tools != nullptr) {
          tool = context_.tools->Find(tool_node.tool());
          if (tool == nullptr) problems_.Add(absl::StrCat(label, ": unknown tool '", tool_node.tool(), "'"));
        }
        for (const auto& [name, expression] : tool_node.arguments()) {
          auto parsed = ParseExpression(expression, absl::StrCat(label, " argument '", name, "'"));
          if (parsed != nullptr) node->tool_arguments[name] = parsed;
        }
        if (tool_node.timeout_ms() < 0) problems_.Add(absl::StrCat(label, ": timeout_ms must not be negative"));
        if (tool_node.max_retries() < 0 || tool_node.max_retries() > 10) {
          problems_.Add(absl::StrCat(label, ": max_retries must be in [0, 10]"));
        }
        const ChannelSpec* out = OutputChannel(id, tool_node.output_channel(), false);
        if (out != nullptr && tool != nullptr && !ToolResultFits(tool->result_type(), *out)) {
          problems_.Add(absl::StrCat(label, ": tool '", tool->name(), "' returns ", tool->result_type(),
                                     ", which cannot be written to ", ChannelTypeName(out->type), " channel '",
                                     out->name, "' (", ReducerName(out->reducer), ")"));
        }
        break;
      }
      case v1::Node::kRetrieve: {
        const v1::RetrieveNode& retrieve = proto.retrieve();
        if (retrieve.query().empty()) {
          problems_.Add(absl::StrCat(label, " has no query expression"));
        } else {
          node->query = ParseExpression(retrieve.query(), label + " query");
        }
        if (retrieve.top_k() < 0 || retrieve.top_k() > 1000) problems_.Add(absl::StrCat(label, ": top_k must be in [0, 1000]"));
        const ChannelSpec* out = OutputChannel(id, retrieve.output_channel(), true);
        if (out != nullptr && out->type != v1::Channel::LIST && out->type != v1::Channel::JSON &&
            out->type != v1::Channel::STRING) {
          problems_.Add(absl::StrCat(label, ": retrieved passages go to a LIST, JSON or STRING channel, not ",
                                     ChannelTypeName(out->type), " '", out->name, "'"));
        }
        break;
      }
      case v1::Node::kRouter: {
        const v1::RouterNode& router = proto.router();
        if (router.routes().empty() && router.default_target().empty()) {
          problems_.Add(absl::StrCat(label, ": router has no routes and no default_target"));
        }
        int index = 0;
        for (const auto& route : router.routes()) {
          ++index;
          std::string where = absl::StrCat(label, " route #", index);
          if (!KnownTarget(route.target())) {
            problems_.Add(absl::StrCat(where, ": unknown target '", route.target(), "'"));
          }
          std::shared_ptr<Expression> condition;
          if (route.condition().empty()) {
            if (router.model().empty()) problems_.Add(absl::StrCat(where, " has no condition"));
          } else {
            condition = ParseExpression(route.condition(), where + " condition");
          }
          node->routes.push_back({condition, route.target()});
        }
        if (!router.default_target().empty() && !KnownTarget(router.default_target())) {
          problems_.Add(absl::StrCat(label, ": unknown default_target '", router.default_target(), "'"));
        }
        if (!router.model().empty()) {
          CheckModel(id, router.model());
          if (!router.prompt_template().empty()) node->prompt = ParseTemplate(router.prompt_template(), label + " prompt_template");
        }
        break;
      }
      case v1::Node::kHuman: {
        const v1::HumanNode& human = proto.human();
        if (!human.prompt().empty()) node->prompt = ParseTemplate(human.prompt(), label + " prompt");
        OutputChannel(id, human.output_channel(), false);
        break;
      }
      case v1::Node::kSubgraph: {
        const v1::SubgraphNode& subgraph = proto.subgraph();
        if (subgraph.graph_id().empty()) {
          problems_.Add(absl::StrCat(label, " names no graph_id"));
        } else if (subgraph.graph_id() == graph_.id()) {
          problems_.Add(absl::StrCat(label, " uses its own graph as a subgraph"));
        } else if (context_.graph_exists && !context_.graph_exists(subgraph.graph_id())) {
          problems_.Add(absl::StrCat(label, ": unknown subgraph '", subgraph.graph_id(), "'"));
        }
        for (const auto& [parent, child] : subgraph.inputs()) {
          if (out_->schema_.Find(parent) == nullptr) {
            problems_.Add(absl::StrCat(label, " input reads undeclared channel '", parent, "'"));
          }
        }
        for (const auto& [child, parent] : subgraph.outputs()) {
          if (out_->schema_.Find(parent) == nullptr) {
            problems_.Add(absl::StrCat(label, " output writes undeclared channel '", parent, "'"));
          }
        }
        break;
      }
      default:
        break;
    }
    if (!proto.has_router() && node->edges.empty()) {
      problems_.Add(absl::StrCat(label, " has no outgoing edge (add an edge to '", kEndNode, "' to end there)"));
    }
  }

  std::vector<std::string> Successors(const CompiledNode& node) const {
    std::vector<std::string> next;
    for (const CompiledEdge& edge : node.edges) next.push_back(edge.to);
    for (const auto& route : node.proto.router().routes()) next.push_back(route.target());
    if (!node.proto.router().default_target().empty()) next.push_back(node.proto.router().default_target());
    return next;
  }

  void CheckStartAndReachability() {
    if (graph_.start().empty()) {
      problems_.Add("graph has no start node");
      return;
    }
    if (out_->nodes_.count(graph_.start()) == 0) {
      problems_.Add(absl::StrCat("start node '", graph_.start(), "' is not a node"));
      return;
    }
    std::set<std::string> reached = {graph_.start()};
    std::deque<std::string> queue = {graph_.start()};
    bool end_reachable = false;
    while (!queue.empty()) {
      std::string id = queue.front();
      queue.pop_front();
      for (const std::string& next : Successors(out_->nodes_.at(id))) {
        if (next == kEndNode) {
          end_reachable = true;
          continue;
        }
        if (out_->nodes_.count(next) > 0 && reached.insert(next).second) queue.push_back(next);
      }
    }
    for (const auto& [id, node] : out_->nodes_) {
      if (reached.count(id) == 0) {
        problems_.Add(absl::StrCat(NodeLabel(id), " is unreachable from start '", graph_.start(), "'"));
      }
    }
    if (!end_reachable) problems_.Add(absl::StrCat("no path from start reaches '", kEndNode, "'"));
  }

  const v1::Graph& graph_;
  const GraphValidationContext& context_;
  CompiledGraph* out_ = nullptr;
  Problems problems_;
};

absl::StatusOr<std::shared_ptr<const CompiledGraph>> CompileGraph(const v1::Graph& graph,
                                                                  const GraphValidationContext& context) {
  GraphCompiler compiler(graph, context);
  return compiler.Run(std::make_shared<CompiledGraph>());
}

absl::StatusOr<std::shared_ptr<const CompiledGraph>> LoadGraphDefinition(absl::string_view text,
                                                                   const GraphValidationContext& context) {
  absl::StatusOr<v1::Graph> graph = ParseGraphDefinition(text);
  if (!graph.ok()) return graph.status();
  return CompileGraph(*graph, context);
}

}  // namespace tessera::agents
