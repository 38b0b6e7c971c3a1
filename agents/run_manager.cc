#include "agents/run_manager.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "agents/tools/tool_call_parser.h"
#include "agents/tools/tool_executor.h"
#include "common/hash.h"
#include "google/protobuf/util/time_util.h"

namespace tessera::agents {

namespace v1 = ::tessera::agents::v1;

namespace {

constexpr char kStartNode[] = "__start__";

google::protobuf::Timestamp NowTimestamp() {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
}

std::string NewId(absl::string_view prefix) {
  static absl::Mutex* mu = new absl::Mutex();
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(mu);
  return absl::StrFormat("%s-%016x", prefix, absl::Uniform<uint64_t>(*gen));
}

v1::RunEvent MakeEvent(const std::string& run_id, int64_t step, const std::string& node_id, v1::RunEvent::Kind kind,
                       const std::string& text = "", const Json& data = Json(),
                       v1::RunStatus status = v1::RUN_STATUS_UNSPECIFIED) {
  v1::RunEvent event;
  event.set_run_id(run_id);
  event.set_step(step);
  event.set_node_id(node_id);
  event.set_kind(kind);
  event.set_text(text);
  if (data.is_object()) {
    absl::StatusOr<google::protobuf::Struct> converted = JsonToStruct(data);
    if (converted.ok()) *event.mutable_data() = *converted;
  }
  *event.mutable_time() = NowTimestamp();
  event.set_status(status);
  return event;
}

void AddUsage(const Usage& add, Usage* total) {
  total->set_prompt_tokens(total->prompt_tokens() + add.prompt_tokens());
  total->set_completion_tokens(total->completion_tokens() + add.completion_tokens());
  total->set_total_tokens(total->total_tokens() + add.total_tokens());
  total->set_embedding_tokens(total->embedding_tokens() + add.embedding_tokens());
  total->set_cost_micros(total->cost_micros() + add.cost_micros());
}

bool IsTerminal(v1::RunStatus status) {
  return status == v1::SUCCEEDED || status == v1::FAILED || status == v1::CANCELLED;
}

// How a tool result is shown to a model.
std::string Observation(const absl::StatusOr<Json>& result) {
  if (!result.ok()) return absl::StrCat("error: ", result.status().message());
  if (result->is_string()) return result->get<std::string>();
  return DumpJson(*result);
}

Json ResultToJournal(const absl::StatusOr<Json>& result) {
  if (result.ok()) return Json{{"ok", *result}};
  return Json{{"error", {{"code", static_cast<int>(result.status().code())},
                         {"message", std::string(result.status().message())}}}};
}

absl::StatusOr<Json> ResultFromJournal(const Json& stored) {
  if (stored.contains("ok")) return stored["ok"];
  const Json& error = stored.value("error", Json::object());
  int code = error.value("code", static_cast<int>(absl::StatusCode::kUnknown));
  std::string message = error.value("message", std::string("journaled error"));
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

}  // namespace

// The side effects of one step, in execution order. An effect already in the
// journal with the same request is returned instead of being performed again.
class EffectLog {
 public:
  EffectLog(RunStore* store, std::string tenant, std::string run_id, int64_t step)
      : store_(store), tenant_(std::move(tenant)), run_id_(std::move(run_id)), step_(step) {}

  int Reserve() { return next_seq_++; }
  static std::string Hash(absl::string_view kind, const Json& request) {
    return Sha256Hex(absl::StrCat(kind, "\n", DumpJson(request)));
  }
  absl::StatusOr<std::optional<Json>> Lookup(int seq, const std::string& hash) {
    return store_->LookupEffect(tenant_, run_id_, step_, seq, hash);
  }
  absl::Status Record(int seq, const std::string& hash, absl::string_view kind, const Json& result) {
    return store_->RecordEffect(tenant_, run_id_, step_, seq, hash, std::string(kind), result);
  }
  // Sequential effect whose failures are not journaled (they fail the step).
  absl::StatusOr<Json> Do(absl::string_view kind, const Json& request,
                          const std::function<absl::StatusOr<Json>()>& perform) {
    int seq = Reserve();
    std::string hash = Hash(kind, request);
    absl::StatusOr<std::optional<Json>> cached = Lookup(seq, hash);
    if (!cached.ok()) return cached.status();
    if (cached->has_value()) return **cached;
    absl::StatusOr<Json> result = perform();
    if (!result.ok()) return result;
    absl::Status recorded = Record(seq, hash, kind, *result);
    if (!recorded.ok()) return recorded;
    return result;
  }

 private:
  RunStore* store_;
  std::string tenant_;
  std::string run_id_;
  int64_t step_;
  int next_seq_ = 0;
};

struct NodeOutcome {
  bool interrupted = false;
  v1::PendingAction pending;
  std::vector<std::pair<std::string, Json>> writes;  // (channel, update), applied in order.
  std::string next_override;                         // Set by routers.
  std::vector<v1::RunEvent> events;
  Usage usage;
};

// Executes single nodes (no persistence of its own besides the effect journal).
class StepExecutor {
 public:
  StepExecutor(RunManager* manager, const std::string& tenant, const std::string& run_id, int64_t step,
               EffectLog* effects)
      : manager_(manager), options_(manager->options_), tenant_(tenant), run_id_(run_id), step_(step),
        effects_(effects) {}

  absl::StatusOr<NodeOutcome> Execute(const CompiledGraph& graph, const CompiledNode& node, const Json& state,
                                      const Json& resolution, int depth) {
    absl::StatusOr<NodeOutcome> outcome = ExecuteKind(graph, node, state, resolution, depth);
    if (!outcome.ok()) {
      return absl::Status(outcome.status().code(),
                          absl::StrCat("node '", node.proto.id(), "': ", outcome.status().message()));
    }
    return outcome;
  }

  // The node that follows `node` given the state after its writes.
  static absl::StatusOr<std::string> NextNode(const CompiledNode& node, const NodeOutcome& outcome, const Json& state) {
    if (node.proto.has_router()) return outcome.next_override;
    for (const CompiledEdge& edge : node.edges) {
      if (edge.condition == nullptr) return edge.to;
      absl::StatusOr<bool> taken = edge.condition->EvaluateCondition(state);
      if (!taken.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("edge ", edge.from, " -> ", edge.to, ": ", taken.status().message()));
      }
      if (*taken) return edge.to;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("no outgoing edge of node '", node.proto.id(), "' has a true condition"));
  }

 private:
  absl::StatusOr<NodeOutcome> ExecuteKind(const CompiledGraph& graph, const CompiledNode& node, const Json& state,
                                          const Json& resolution, int depth) {
    switch (node.proto.kind_case()) {
      case v1::Node::kLlm: return ExecuteLlm(graph, node, state);
      case v1::Node::kTool: return ExecuteTool(graph, node, state, resolution);
      case v1::Node::kRetrieve: return ExecuteRetrieve(graph, node, state);
      case v1::Node::kRouter: return ExecuteRouter(node, state);
      case v1::Node::kHuman: return ExecuteHuman(node, state, resolution);
      case v1::Node::kSubgraph: return ExecuteSubgraph(node, state, depth);
      default: return absl::InvalidArgumentError("node has no kind");
    }
  }

  v1::RunEvent Event(const CompiledNode& node, v1::RunEvent::Kind kind, const std::string& text, const Json& data) {
    return MakeEvent(run_id_, step_, node.proto.id(), kind, text, data);
  }

  // Calls the node's model through the effect journal; the text is streamed to
  // subscribers as TOKEN events while it is generated (live only: the stored
  // events carry the finished text).
  absl::StatusOr<Json> CallModel(const CompiledNode& node, const std::string& model_name,
                                 const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                 const SamplingParams& sampling, Usage* usage) {
    std::shared_ptr<ChatModel> model = options_.models->Find(model_name);
    if (model == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("no model named '", model_name.empty() ? "(default)" : model_name, "'"));
    }
    Json request = {{"model", model_name}, {"messages", Json::array()}, {"tools", Json::array()},
                    {"sampling", sampling.ShortDebugString()}};
    for (const ChatMessage& message : messages) request["messages"].push_back(ChatMessageToJson(message));
    for (const ToolSpec& tool : tools) request["tools"].push_back(tool.name);
    absl::StatusOr<Json> reply = effects_->Do("model", request, [&]() -> absl::StatusOr<Json> {
      auto on_token = [&](absl::string_view delta) {
        manager_->PublishLive(tenant_, run_id_, Event(node, v1::RunEvent::TOKEN, std::string(delta), Json()));
      };
      absl::StatusOr<ChatResult> result = model->GenerateStreaming(messages, tools, sampling, on_token);
      if (!result.ok()) return result.status();
      Json out = {{"text", result->text},
                  {"tool_calls", Json::array()},
                  {"usage", {{"prompt", result->usage.prompt_tokens()},
                             {"completion", result->usage.completion_tokens()},
                             {"total", result->usage.total_tokens()}}}};
      for (const auto& call : result->tool_calls) {
        out["tool_calls"].push_back(
            {{"id", call.id()}, {"name", call.name()}, {"arguments", StructToJson(call.arguments())}});
      }
      return out;
    });
    if (!reply.ok()) return reply;
    const Json& counts = (*reply)["usage"];
    Usage add;
    add.set_prompt_tokens(counts.value("prompt", 0));
    add.set_completion_tokens(counts.value("completion", 0));
    add.set_total_tokens(counts.value("total", 0));
    AddUsage(add, usage);
    return reply;
  }

  // Runs tool calls in parallel; journaled calls are not re-run. Returns results
  // in call order and appends TOOL_CALL / TOOL_RESULT events.
  absl::StatusOr<std::vector<absl::StatusOr<Json>>> RunTools(const CompiledNode& node,
                                                             const std::vector<ParsedToolCall>& calls,
                                                             const std::vector<std::shared_ptr<Tool>>& tools,
                                                             absl::Duration timeout, int retries,
                                                             NodeOutcome* outcome) {
    std::vector<absl::StatusOr<Json>> results(calls.size(), absl::UnknownError("not run"));
    std::vector<int> seqs(calls.size());
    std::vector<std::string> hashes(calls.size());
    std::vector<bool> cached(calls.size(), false);
    std::vector<ToolInvocation> invocations;
    std::vector<size_t> invocation_index;
    for (size_t i = 0; i < calls.size(); ++i) {
      outcome->events.push_back(Event(node, v1::RunEvent::TOOL_CALL, calls[i].name,
                                      {{"tool", calls[i].name}, {"call_id", calls[i].id}, {"arguments", calls[i].arguments}}));
      seqs[i] = effects_->Reserve();
      if (tools[i] == nullptr) {
        results[i] = absl::NotFoundError(absl::StrCat("unknown tool '", calls[i].name, "'"));
        continue;
      }
      hashes[i] = EffectLog::Hash("tool", {{"tool", calls[i].name}, {"arguments", calls[i].arguments}});
      absl::StatusOr<std::optional<Json>> stored = effects_->Lookup(seqs[i], hashes[i]);
      if (!stored.ok()) return stored.status();
      if (stored->has_value()) {
        results[i] = ResultFromJournal(**stored);
        cached[i] = true;
        continue;
      }
      ToolInvocation invocation;
      invocation.tool = tools[i];
      invocation.arguments = calls[i].arguments;
      invocation.tenant = tenant_;
      invocation.timeout = timeout;
      invocation.max_retries = retries;
      invocations.push_back(std::move(invocation));
      invocation_index.push_back(i);
    }
    std::mutex record_mu;
    absl::Status record_status;
    std::vector<int> attempts(calls.size(), 0);
    std::vector<ToolOutcome> outcomes = InvokeToolsInParallel(invocations, [&](size_t k, const ToolOutcome& done) {
      size_t i = invocation_index[k];
      // Journal at once: a crash later in the step must not repeat this call.
      absl::Status recorded = effects_->Record(seqs[i], hashes[i], "tool", ResultToJournal(done.result));
      std::lock_guard<std::mutex> lock(record_mu);
      if (!recorded.ok() && record_status.ok()) record_status = recorded;
    });
    if (!record_status.ok()) return record_status;
    for (size_t k = 0; k < outcomes.size(); ++k) {
      results[invocation_index[k]] = outcomes[k].result;
      attempts[invocation_index[k]] = outcomes[k].attempts;
    }
    for (size_t i = 0; i < calls.size(); ++i) {
      Json data = {{"tool", calls[i].name}, {"call_id", calls[i].id}, {"ok", results[i].ok()},
                   {"attempts", attempts[i]}, {"from_journal", bool(cached[i])}};
      if (results[i].ok()) {
        data["result"] = *results[i];
      } else {
        data["error"] = std::string(results[i].status().message());
      }
      outcome->events.push_back(Event(node, v1::RunEvent::TOOL_RESULT, Observation(results[i]), data));
    }
    return results;
  }

  absl::StatusOr<NodeOutcome> ExecuteLlm(const CompiledGraph& graph, const CompiledNode& node, const Json& state) {
    const v1::LlmNode& llm = node.proto.llm();
    const ChannelSpec* out = graph.schema().Find(llm.output_channel());
    if (out == nullptr) return absl::InvalidArgumentError("undeclared output channel");
    NodeOutcome outcome;
    std::vector<ChatMessage> messages;
    if (node.system_prompt != nullptr) {
      absl::StatusOr<std::string> system = node.system_prompt->Render(state);
      if (!system.ok()) return system.status();
      ChatMessage message;
      message.set_role("system");
      message.set_content(*system);
      messages.push_back(std::move(message));
    }
    bool conversation = out->type == v1::Channel::MESSAGES;
    Json history = conversation ? state.value(out->name, Json::array()) : Json::array();
    for (const Json& message : history) messages.push_back(JsonToChatMessage(message));
    Json new_messages = Json::array();
    if (node.prompt != nullptr) {
      absl::StatusOr<std::string> prompt = node.prompt->Render(state);
      if (!prompt.ok()) return prompt.status();
      ChatMessage message;
      message.set_role("user");
      message.set_content(*prompt);
      new_messages.push_back(ChatMessageToJson(message));
      messages.push_back(std::move(message));
    }
    std::vector<ToolSpec> specs;
    std::map<std::string, std::shared_ptr<Tool>> allowed;
    for (const std::string& name : llm.tools()) {
      std::shared_ptr<Tool> tool = options_.tools->Find(name);
      if (tool == nullptr) return absl::FailedPreconditionError(absl::StrCat("unknown tool '", name, "'"));
      specs.push_back({tool->name(), tool->description(), tool->parameters_schema()});
      allowed[name] = tool;
    }
    std::string final_text;
    bool finished = false;
    for (int round = 0; round < std::max(1, options_.max_react_rounds); ++round) {
      absl::StatusOr<Json> reply = CallModel(node, llm.model(), messages, specs, llm.sampling(), &outcome.usage);
      if (!reply.ok()) return reply.status();
      std::string text = (*reply)["text"].get<std::string>();
      std::vector<ParsedToolCall> calls;
      std::vector<std::string> parse_errors;
      std::string prose = text;
      for (const Json& call : (*reply)["tool_calls"]) {
        calls.push_back({call.value("id", ""), call.value("name", ""), call.value("arguments", Json::object())});
      }
      if (calls.empty() && !specs.empty()) {
        ParsedReply parsed = ParseToolCalls(text);
        calls = std::move(parsed.calls);
        parse_errors = std::move(parsed.errors);
        prose = parsed.prose;
      }
      if (calls.empty() && parse_errors.empty()) {
        final_text = text;
        ChatMessage message;
        message.set_role("assistant");
        message.set_content(text);
        new_messages.push_back(ChatMessageToJson(message));
        finished = true;
        break;
      }
      ChatMessage assistant;
      assistant.set_role("assistant");
      assistant.set_content(prose);
      for (size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].id.empty()) calls[i].id = absl::StrCat("call_", round + 1, "_", i + 1);
        auto* call = assistant.add_tool_calls();
        call->set_id(calls[i].id);
        call->set_name(calls[i].name);
        absl::StatusOr<google::protobuf::Struct> args = JsonToStruct(calls[i].arguments);
        if (args.ok()) *call->mutable_arguments() = *args;
      }
      new_messages.push_back(ChatMessageToJson(assistant));
      messages.push_back(std::move(assistant));
      std::vector<std::shared_ptr<Tool>> tools;
      for (const ParsedToolCall& call : calls) {
        auto it = allowed.find(call.name);
        tools.push_back(it == allowed.end() ? nullptr : it->second);
      }
      absl::StatusOr<std::vector<absl::StatusOr<Json>>> results =
          RunTools(node, calls, tools, options_.default_tool_timeout, options_.default_tool_retries, &outcome);
      if (!results.ok()) return results.status();
      for (size_t i = 0; i < calls.size(); ++i) {
        ChatMessage observation;
        observation.set_role("tool");
        observation.set_name(calls[i].name);
        observation.set_tool_call_id(calls[i].id);
        observation.set_content(Observation((*results)[i]));
        new_messages.push_back(ChatMessageToJson(observation));
        messages.push_back(std::move(observation));
      }
      for (const std::string& error : parse_errors) {
        ChatMessage observation;
        observation.set_role("tool");
        observation.set_content(absl::StrCat("error: ", error));
        new_messages.push_back(ChatMessageToJson(observation));
        messages.push_back(std::move(observation));
      }
    }
    if (!finished) {
      return absl::ResourceExhaustedError(
          absl::StrCat("model still calling tools after ", options_.max_react_rounds, " rounds"));
    }
    if (conversation) {
      if (out->reducer == v1::Channel::APPEND) {
        outcome.writes.emplace_back(out->name, new_messages);
      } else {
        Json all = history;
        for (const Json& message : new_messages) all.push_back(message);
        outcome.writes.emplace_back(out->name, all);
      }
    } else if (out->type == v1::Channel::JSON) {
      absl::StatusOr<Json> parsed = ParseJson(final_text);
      outcome.writes.emplace_back(out->name, parsed.ok() ? *parsed : Json(final_text));
    } else {
      outcome.writes.emplace_back(out->name, final_text);
    }
    return outcome;
  }

  absl::StatusOr<NodeOutcome> ExecuteTool(const CompiledGraph& graph, const CompiledNode& node, const Json& state,
                                          const Json& resolution) {
    const v1::ToolNode& spec = node.proto.tool();
    NodeOutcome outcome;
    std::shared_ptr<Tool> tool = options_.tools->Find(spec.tool());
    if (tool == nullptr) return absl::FailedPreconditionError(absl::StrCat("unknown tool '", spec.tool(), "'"));
    Json arguments = Json::object();
    for (const auto& [name, expression] : node.tool_arguments) {
      absl::StatusOr<Json> value = expression->Evaluate(state);
      if (!value.ok()) return value.status();
      arguments[name] = std::move(*value);
    }
    const ChannelSpec* out = spec.output_channel().empty() ? nullptr : graph.schema().Find(spec.output_channel());
    bool decided = resolution.is_object() && resolution.value("node_id", "") == node.proto.id();
    if (spec.requires_approval() && !decided) {
      outcome.interrupted = true;
      outcome.pending.set_id(absl::StrCat("act-", run_id_, "-", step_));
      outcome.pending.set_node_id(node.proto.id());
      outcome.pending.set_tool(spec.tool());
      absl::StatusOr<google::protobuf::Struct> args = JsonToStruct(arguments);
      if (args.ok()) *outcome.pending.mutable_arguments() = *args;
      outcome.pending.set_prompt(absl::StrCat("Approve running tool '", spec.tool(), "' with ", DumpJson(arguments)));
      return outcome;
    }
    if (decided && resolution.value("kind", "") == "reject") {
      std::string reason = resolution.value("reason", "");
      std::string text = absl::StrCat("Action '", spec.tool(), "' was rejected by ",
                                      resolution.value("reviewer", std::string("a reviewer")),
                                      reason.empty() ? "" : absl::StrCat(": ", reason));
      outcome.events.push_back(Event(node, v1::RunEvent::TOOL_RESULT, text,
                                     {{"tool", spec.tool()}, {"rejected", true}, {"reason", reason}}));
      if (out != nullptr && out->type == v1::Channel::MESSAGES) {
        outcome.writes.emplace_back(out->name, Json{{"role", "tool"}, {"name", spec.tool()}, {"content", text}});
      }
      return outcome;
    }
    if (decided && resolution.contains("arguments") && resolution["arguments"].is_object() &&
        !resolution["arguments"].empty()) {
      arguments = resolution["arguments"];
    }
    ParsedToolCall call{"call_1", spec.tool(), arguments};
    absl::Duration timeout = spec.timeout_ms() > 0 ? absl::Milliseconds(spec.timeout_ms()) : options_.default_tool_timeout;
    absl::StatusOr<std::vector<absl::StatusOr<Json>>> results =
        RunTools(node, {call}, {tool}, timeout, spec.max_retries(), &outcome);
    if (!results.ok()) return results.status();
    const absl::StatusOr<Json>& result = (*results)[0];
    if (!result.ok()) {
      return absl::Status(result.status().code(), absl::StrCat("tool '", spec.tool(), "' failed: ", result.status().message()));
    }
    if (out != nullptr) {
      if (out->type == v1::Channel::MESSAGES) {
        if (!result->is_string() && !result->is_object()) {
          return absl::InvalidArgumentError(absl::StrCat("tool '", spec.tool(), "' returned a ", JsonTypeName(*result),
                                                         ", which cannot be written to MESSAGES channel '", out->name, "'"));
        }
        outcome.writes.emplace_back(out->name, Json{{"role", "tool"}, {"name", spec.tool()}, {"content", Observation(result)}});
      } else {
        outcome.writes.emplace_back(out->name, *result);
      }
    }
    return outcome;
  }

  absl::StatusOr<NodeOutcome> ExecuteRetrieve(const CompiledGraph& graph, const CompiledNode& node, const Json& state) {
    const v1::RetrieveNode& spec = node.proto.retrieve();
    if (options_.retriever == nullptr) return absl::FailedPreconditionError("no retriever is configured");
    absl::StatusOr<Json> query = node.query->Evaluate(state);
    if (!query.ok()) return query.status();
    if (!query->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("query must be a string, got ", JsonTypeName(*query)));
    }
    int top_k = spec.top_k() > 0 ? spec.top_k() : 5;
    Json request = {{"collection", spec.collection()}, {"query", *query}, {"top_k", top_k}};
    absl::StatusOr<Json> passages = effects_->Do("retrieve", request, [&]() -> absl::StatusOr<Json> {
      absl::StatusOr<std::vector<RetrievedPassage>> hits =
          options_.retriever->Retrieve(tenant_, spec.collection(), query->get<std::string>(), top_k);
      if (!hits.ok()) return hits.status();
      return PassagesToJson(*hits);
    });
    if (!passages.ok()) return passages.status();
    NodeOutcome outcome;
    const ChannelSpec* out = graph.schema().Find(spec.output_channel());
    if (out != nullptr && out->type == v1::Channel::STRING) {
      std::vector<std::string> texts;
      for (const Json& passage : *passages) texts.push_back(passage.value("text", ""));
      outcome.writes.emplace_back(spec.output_channel(), absl::StrJoin(texts, "\n\n"));
    } else {
      outcome.writes.emplace_back(spec.output_channel(), *passages);
    }
    outcome.events.push_back(Event(node, v1::RunEvent::TOOL_RESULT, absl::StrCat(passages->size(), " passages"),
                                   {{"retrieve", spec.collection()}, {"count", passages->size()}}));
    return outcome;
  }

  absl::StatusOr<NodeOutcome> ExecuteRouter(const CompiledNode& node, const Json& state) {
    const v1::RouterNode& spec = node.proto.router();
    NodeOutcome outcome;
    if (!spec.model().empty()) {
      std::vector<std::string> targets;
      for (const CompiledRoute& route : node.routes) targets.push_back(route.target);
      std::string prompt;
      if (node.prompt != nullptr) {
        absl::StatusOr<std::string> rendered = node.prompt->Render(state);
        if (!rendered.ok()) return rendered.status();
        prompt = *rendered;
      }
      ChatMessage message;
      message.set_role("user");
      message.set_content(absl::StrCat(prompt, "\nChoose exactly one of: ", absl::StrJoin(targets, ", "),
                                       ". Reply with the name only."));
      // Constrained to {"choice": one of the targets} where the backend can
      // enforce a schema; a plain name is understood too.
      SamplingParams sampling;
      absl::StatusOr<google::protobuf::Struct> schema = JsonToStruct(
          {{"type", "object"}, {"properties", {{"choice", {{"enum", targets}}}}}, {"required", {"choice"}}});
      if (schema.ok()) *sampling.mutable_json_schema() = *schema;
      absl::StatusOr<Json> reply = CallModel(node, spec.model(), {message}, {}, sampling, &outcome.usage);
      if (!reply.ok()) return reply.status();
      std::string answer = std::string(absl::StripAsciiWhitespace((*reply)["text"].get<std::string>()));
      absl::StatusOr<Json> structured = ParseJson(answer);
      if (structured.ok() && structured->is_object() && structured->value("choice", Json()).is_string()) {
        answer = (*structured)["choice"].get<std::string>();
      }
      for (const std::string& target : targets) {
        if (answer == target) outcome.next_override = target;
      }
      if (outcome.next_override.empty()) {
        for (const std::string& target : targets) {
          if (outcome.next_override.empty() && answer.find(target) != std::string::npos) outcome.next_override = target;
        }
      }
    } else {
      for (const CompiledRoute& route : node.routes) {
        absl::StatusOr<bool> taken = route.condition->EvaluateCondition(state);
        if (!taken.ok()) return taken.status();
        if (*taken) {
          outcome.next_override = route.target;
          break;
        }
      }
    }
    if (outcome.next_override.empty()) outcome.next_override = spec.default_target();
    if (outcome.next_override.empty()) {
      return absl::FailedPreconditionError("no route matched and there is no default_target");
    }
    return outcome;
  }

  absl::StatusOr<NodeOutcome> ExecuteHuman(const CompiledNode& node, const Json& state, const Json& resolution) {
    NodeOutcome outcome;
    const v1::HumanNode& spec = node.proto.human();
    bool decided = resolution.is_object() && resolution.value("node_id", "") == node.proto.id();
    if (!decided) {
      outcome.interrupted = true;
      outcome.pending.set_id(absl::StrCat("act-", run_id_, "-", step_));
      outcome.pending.set_node_id(node.proto.id());
      if (node.prompt != nullptr) {
        absl::StatusOr<std::string> prompt = node.prompt->Render(state);
        if (!prompt.ok()) return prompt.status();
        outcome.pending.set_prompt(*prompt);
      }
      return outcome;
    }
    const Json& update = resolution.value("update", Json::object());
    for (auto it = update.begin(); it != update.end(); ++it) {
      if (it.key() == "response") {
        outcome.writes.emplace_back(spec.output_channel(), it.value());
      } else {
        outcome.writes.emplace_back(it.key(), it.value());
      }
    }
    return outcome;
  }

  absl::StatusOr<NodeOutcome> ExecuteSubgraph(const CompiledNode& node, const Json& state, int depth) {
    const v1::SubgraphNode& spec = node.proto.subgraph();
    if (depth + 1 > options_.max_subgraph_depth) {
      return absl::ResourceExhaustedError(absl::StrCat("subgraphs nested deeper than ", options_.max_subgraph_depth));
    }
    absl::StatusOr<v1::Graph> child_proto = manager_->store_->GetGraph(tenant_, spec.graph_id());
    if (!child_proto.ok()) return child_proto.status();
    GraphValidationContext context;
    context.tools = options_.tools.get();
    absl::StatusOr<std::shared_ptr<const CompiledGraph>> child = CompileGraph(*child_proto, context);
    if (!child.ok()) return child.status();
    Json child_state = (*child)->schema().InitialState();
    for (const auto& [parent_channel, child_channel] : spec.inputs()) {
      absl::Status status = (*child)->schema().Apply(child_channel, state.value(parent_channel, Json()), &child_state);
      if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat("subgraph input: ", status.message()));
    }
    NodeOutcome outcome;
    std::string current = (*child)->start();
    std::map<std::string, int> visits;
    int steps = 0;
    while (current != kEndNode) {
      if (++steps > (*child)->max_steps()) {
        return absl::ResourceExhaustedError(absl::StrCat("subgraph '", spec.graph_id(), "' exceeded max_steps (",
                                                         (*child)->max_steps(), ")"));
      }
      const CompiledNode* child_node = (*child)->node(current);
      if (child_node == nullptr) return absl::InternalError(absl::StrCat("subgraph has no node '", current, "'"));
      int max_visits = child_node->proto.max_visits();
      if (max_visits > 0 && ++visits[current] > max_visits) {
        return absl::ResourceExhaustedError(absl::StrCat("subgraph node '", current, "' exceeded max_visits (", max_visits, ")"));
      }
      absl::StatusOr<NodeOutcome> inner = Execute(**child, *child_node, child_state, Json(), depth + 1);
      if (!inner.ok()) return absl::Status(inner.status().code(), absl::StrCat("subgraph '", spec.graph_id(), "': ", inner.status().message()));
      if (inner->interrupted) {
        return absl::UnimplementedError(absl::StrCat("subgraph '", spec.graph_id(), "' node '", current,
                                                     "' needs a human decision; interrupts inside subgraphs are not supported"));
      }
      for (const auto& [channel, update] : inner->writes) {
        absl::Status status = (*child)->schema().Apply(channel, update, &child_state);
        if (!status.ok()) return status;
      }
      for (v1::RunEvent& event : inner->events) outcome.events.push_back(std::move(event));
      AddUsage(inner->usage, &outcome.usage);
      absl::StatusOr<std::string> next = NextNode(*child_node, *inner, child_state);
      if (!next.ok()) return next.status();
      current = *next;
    }
    for (const auto& [child_channel, parent_channel] : spec.outputs()) {
      outcome.writes.emplace_back(parent_channel, child_state.value(child_channel, Json()));
    }
    return outcome;
  }

  RunManager* manager_;
  const RunManagerOptions& options_;
  const std::string& tenant_;
  const std::string& run_id_;
  int64_t step_;
  EffectLog* effects_;
};

// ---------------------------------------------------------------------------
// RunManager

absl::StatusOr<std::unique_ptr<RunManager>> RunManager::Open(RunManagerOptions options) {
  if (options.database_path.empty()) return absl::InvalidArgumentError("database_path is required");
  if (options.tools == nullptr) options.tools = std::make_shared<ToolRegistry>();
  if (options.models == nullptr) options.models = std::make_shared<ModelRegistry>();
  absl::StatusOr<std::unique_ptr<RunStore>> store = RunStore::Open(options.database_path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<RunManager>(new RunManager(std::move(options), std::move(*store)));
}

RunManager::~RunManager() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

absl::StatusOr<v1::Graph> RunManager::CreateGraph(const std::string& tenant, const v1::CreateGraphRequest& request) {
  v1::Graph graph;
  if (request.has_graph()) {
    graph = request.graph();
  } else if (!request.definition_text().empty()) {
    absl::StatusOr<v1::Graph> parsed = ParseGraphDefinition(request.definition_text());
    if (!parsed.ok()) return parsed.status();
    graph = std::move(*parsed);
  } else {
    return absl::InvalidArgumentError("CreateGraph needs a graph or its JSON/YAML definition_text");
  }
  GraphValidationContext context;
  context.tools = options_.tools.get();
  context.models = options_.models.get();
  context.graph_exists = [&](const std::string& id) { return store_->GetGraph(tenant, id).ok(); };
  absl::StatusOr<std::shared_ptr<const CompiledGraph>> compiled = CompileGraph(graph, context);
  if (!compiled.ok()) return compiled.status();
  return store_->PutGraph(tenant, std::move(graph));
}

absl::StatusOr<v1::Graph> RunManager::GetGraph(const std::string& tenant, const std::string& id) {
  return store_->GetGraph(tenant, id);
}

namespace {

absl::StatusOr<std::pair<int64_t, int64_t>> PageBounds(const ::tessera::common::v1::PageRequest& page) {
  int64_t size = page.page_size() <= 0 ? 50 : std::min<int64_t>(page.page_size(), 500);
  int64_t offset = 0;
  if (!page.page_token().empty() && (!absl::SimpleAtoi(page.page_token(), &offset) || offset < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid page_token '", page.page_token(), "'"));
  }
  return std::make_pair(offset, size);
}

void FillPage(int64_t offset, int64_t count, int64_t total, ::tessera::common::v1::PageResponse* page) {
  page->set_total_size(total);
  if (offset + count < total) page->set_next_page_token(absl::StrCat(offset + count));
}

}  // namespace

absl::StatusOr<v1::ListGraphsResponse> RunManager::ListGraphs(const std::string& tenant,
                                                             const v1::ListGraphsRequest& request) {
  absl::StatusOr<std::pair<int64_t, int64_t>> bounds = PageBounds(request.page());
  if (!bounds.ok()) return bounds.status();
  int64_t total = 0;
  absl::StatusOr<std::vector<v1::Graph>> graphs = store_->ListGraphs(tenant, bounds->first, bounds->second, &total);
  if (!graphs.ok()) return graphs.status();
  v1::ListGraphsResponse response;
  for (v1::Graph& graph : *graphs) *response.add_graphs() = std::move(graph);
  FillPage(bounds->first, response.graphs_size(), total, response.mutable_page());
  return response;
}

absl::StatusOr<std::shared_ptr<const CompiledGraph>> RunManager::CompileForRun(const RunRecord& record) {
  GraphValidationContext context;
  context.tools = options_.tools.get();
  return CompileGraph(record.graph, context);
}

absl::Status RunManager::Commit(RunRecord& record, const std::optional<std::string>& checkpoint_node,
                                std::vector<v1::RunEvent> events) {
  *record.run.mutable_update_time() = NowTimestamp();
  absl::Status status = store_->CommitStep(record, checkpoint_node, &events);
  if (!status.ok()) return status;
  Deliver(record.tenant, record.run.id(), events);
  return absl::OkStatus();
}

void RunManager::PublishLive(const std::string& tenant, const std::string& run_id, const v1::RunEvent& event) {
  Deliver(tenant, run_id, {event});
}

void RunManager::Deliver(const std::string& tenant, const std::string& run_id,
                         const std::vector<v1::RunEvent>& events) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  for (const auto& [id, subscription] : subscribers_) {
    if (subscription.tenant != tenant || subscription.run_id != run_id) continue;
    for (const v1::RunEvent& event : events) subscription.callback(event);
  }
}

absl::Status RunManager::FailRun(RunRecord& record, const std::string& node_id, const std::string& error) {
  record.run.set_status(v1::FAILED);
  record.run.set_error(error);
  record.run.clear_pending_action();
  record.resolution = Json();
  int64_t step = record.run.step() + 1;
  return Commit(record, std::nullopt,
                {MakeEvent(record.run.id(), step, node_id, v1::RunEvent::ERROR, error),
                 MakeEvent(record.run.id(), step, node_id, v1::RunEvent::FINISHED, error, Json(), v1::FAILED)});
}

absl::Status RunManager::ClaimRun(const std::string& tenant, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return absl::UnavailableError("the run manager is shutting down");
  if (!active_.insert({tenant, run_id}).second) {
    return absl::FailedPreconditionError(absl::StrCat("run '", run_id, "' is being executed"));
  }
  return absl::OkStatus();
}

void RunManager::ReleaseRun(const std::string& tenant, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase({tenant, run_id});
  cancel_.erase({tenant, run_id});
  idle_cv_.notify_all();
}

bool RunManager::CancelRequested(const std::string& tenant, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return cancel_.count({tenant, run_id}) > 0;
}

void RunManager::LaunchDriver(const std::string& tenant, const std::string& run_id) {
  if (!options_.async) {
    DriveLoop(tenant, run_id);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Reap drivers that have finished: they only exit after recording themselves.
  for (const std::thread::id& id : finished_drivers_) {
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [&id](const std::thread& thread) { return thread.get_id() == id; });
    if (it == threads_.end()) continue;
    it->join();
    threads_.erase(it);
  }
  finished_drivers_.clear();
  threads_.emplace_back([this, tenant, run_id] {
    DriveLoop(tenant, run_id);
    std::lock_guard<std::mutex> done(mu_);
    finished_drivers_.push_back(std::this_thread::get_id());
  });
}

void RunManager::DriveLoop(const std::string& tenant, const std::string& run_id) {
  while (true) {
    absl::StatusOr<bool> more = DriveOneStep(tenant, run_id);
    // A storage error leaves the run RUNNING at its last checkpoint; RecoverRuns retries it.
    if (!more.ok() || !*more) break;
  }
  ReleaseRun(tenant, run_id);
}

absl::StatusOr<bool> RunManager::DriveOneStep(const std::string& tenant, const std::string& run_id) {
  absl::StatusOr<RunRecord> loaded = store_->GetRun(tenant, run_id);
  if (!loaded.ok()) return loaded.status();
  RunRecord& record = *loaded;
  if (record.run.status() != v1::RUNNING) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return false;  // Leave it RUNNING, as a crash would.
  }
  if (CancelRequested(tenant, run_id)) {
    record.run.set_status(v1::CANCELLED);
    record.run.set_error("cancelled");
    record.resolution = Json();
    absl::Status status = Commit(record, std::nullopt,
                                 {MakeEvent(run_id, record.run.step(), "", v1::RunEvent::FINISHED, "cancelled", Json(),
                                            v1::CANCELLED)});
    if (!status.ok()) return status;
    return false;
  }
  const std::string node_id = record.next_node;
  absl::StatusOr<std::shared_ptr<const CompiledGraph>> graph = CompileForRun(record);
  if (!graph.ok()) {
    absl::Status status = FailRun(record, node_id, std::string(graph.status().message()));
    if (!status.ok()) return status;
    return false;
  }
  if (node_id == kEndNode) {
    record.run.set_status(v1::SUCCEEDED);
    absl::Status status = Commit(record, std::nullopt,
                                 {MakeEvent(run_id, record.run.step(), "", v1::RunEvent::FINISHED, "", Json(), v1::SUCCEEDED)});
    if (!status.ok()) return status;
    return false;
  }
  const int64_t step = record.run.step() + 1;
  const CompiledNode* node = (*graph)->node(node_id);
  absl::Status failure;
  if (node == nullptr) {
    failure = absl::InternalError(absl::StrCat("run is at unknown node '", node_id, "'"));
  } else if (step > (*graph)->max_steps()) {
    failure = absl::ResourceExhaustedError(absl::StrCat("run exceeded max_steps (", (*graph)->max_steps(),
                                                        ") before node '", node_id, "'"));
  } else if (node->proto.max_visits() > 0 && record.visits[node_id] + 1 > node->proto.max_visits()) {
    failure = absl::ResourceExhaustedError(
        absl::StrCat("node '", node_id, "' exceeded max_visits (", node->proto.max_visits(), ")"));
  }
  if (!failure.ok()) {
    absl::Status status = FailRun(record, node_id, std::string(failure.message()));
    if (!status.ok()) return status;
    return false;
  }

  Json state = StructToJson(record.run.state());
  EffectLog effects(store_.get(), tenant, run_id, step);
  StepExecutor executor(this, tenant, run_id, step, &effects);
  absl::StatusOr<NodeOutcome> outcome = executor.Execute(**graph, *node, state, record.resolution, 0);
  if (!outcome.ok()) {
    absl::Status status = FailRun(record, node_id, std::string(outcome.status().message()));
    if (!status.ok()) return status;
    return false;
  }
  if (outcome->interrupted) {
    record.run.set_status(v1::INTERRUPTED);
    *record.run.mutable_pending_action() = outcome->pending;
    AddUsage(outcome->usage, record.run.mutable_usage());
    Json data = {{"action_id", outcome->pending.id()}, {"tool", outcome->pending.tool()}};
    absl::Status status = Commit(record, std::nullopt,
                                 {MakeEvent(run_id, step, node_id, v1::RunEvent::INTERRUPTED,
                                            outcome->pending.prompt(), data, v1::INTERRUPTED)});
    if (!status.ok()) return status;
    return false;
  }
  Json written = Json::array();
  for (const auto& [channel, update] : outcome->writes) {
    absl::Status applied = (*graph)->schema().Apply(channel, update, &state);
    if (!applied.ok()) {
      absl::Status status = FailRun(record, node_id, absl::StrCat("node '", node_id, "': ", applied.message()));
      if (!status.ok()) return status;
      return false;
    }
    written.push_back(channel);
  }
  absl::StatusOr<std::string> next = StepExecutor::NextNode(*node, *outcome, state);
  if (!next.ok()) {
    absl::Status status = FailRun(record, node_id, std::string(next.status().message()));
    if (!status.ok()) return status;
    return false;
  }
  absl::StatusOr<google::protobuf::Struct> state_struct = JsonToStruct(state);
  if (!state_struct.ok()) return state_struct.status();
  record.run.set_step(step);
  *record.run.mutable_state() = std::move(*state_struct);
  record.run.clear_pending_action();
  AddUsage(outcome->usage, record.run.mutable_usage());
  record.visits[node_id] += 1;
  record.next_node = *next;
  record.resolution = Json();

  std::vector<v1::RunEvent> events;
  events.push_back(MakeEvent(run_id, step, node_id, v1::RunEvent::NODE_STARTED));
  for (v1::RunEvent& event : outcome->events) events.push_back(std::move(event));
  events.push_back(MakeEvent(run_id, step, node_id, v1::RunEvent::NODE_FINISHED, "",
                             {{"channels", written}, {"next", *next}}));
  events.push_back(MakeEvent(run_id, step, node_id, v1::RunEvent::CHECKPOINT, "", {{"step", step}}));
  if (*next == kEndNode) {
    record.run.set_status(v1::SUCCEEDED);
    events.push_back(MakeEvent(run_id, step, node_id, v1::RunEvent::FINISHED, "", Json(), v1::SUCCEEDED));
  }
  absl::Status status = Commit(record, node_id, std::move(events));
  if (!status.ok()) return status;
  return *next != kEndNode;
}

absl::StatusOr<v1::Run> RunManager::FinishControlCall(const std::string& tenant, const std::string& run_id) {
  absl::StatusOr<RunRecord> record = store_->GetRun(tenant, run_id);
  if (!record.ok()) return record.status();
  return record->run;
}

absl::StatusOr<v1::Run> RunManager::CreateAndDrive(RunRecord record, const Json& input,
                                                   const std::string& checkpoint_node) {
  absl::StatusOr<std::shared_ptr<const CompiledGraph>> graph = CompileForRun(record);
  if (!graph.ok()) return graph.status();
  Json state = StructToJson(record.run.state());
  if (!input.is_null()) {
    absl::Status applied = (*graph)->schema().ApplyAll(input, &state);
    if (!applied.ok()) return absl::InvalidArgumentError(absl::StrCat("run input: ", applied.message()));
  }
  absl::StatusOr<google::protobuf::Struct> state_struct = JsonToStruct(state);
  if (!state_struct.ok()) return state_struct.status();
  *record.run.mutable_state() = std::move(*state_struct);
  *record.run.mutable_create_time() = NowTimestamp();
  *record.run.mutable_update_time() = record.run.create_time();
  bool finished = record.next_node == kEndNode;
  record.run.set_status(finished ? v1::SUCCEEDED : v1::RUNNING);
  std::vector<v1::RunEvent> events = {
      MakeEvent(record.run.id(), record.run.step(), checkpoint_node, v1::RunEvent::CHECKPOINT,
                record.parent_run_id.empty() ? "" : absl::StrCat("forked from ", record.parent_run_id, " at step ",
                                                                 record.parent_step),
                {{"step", record.run.step()}})};
  if (finished) {
    events.push_back(MakeEvent(record.run.id(), record.run.step(), "", v1::RunEvent::FINISHED, "", Json(), v1::SUCCEEDED));
  }
  absl::Status created = store_->CreateRun(record, checkpoint_node, &events);
  if (!created.ok()) return created;
  if (!finished) {
    absl::Status claimed = ClaimRun(record.tenant, record.run.id());
    if (!claimed.ok()) return claimed;
    LaunchDriver(record.tenant, record.run.id());
  }
  return FinishControlCall(record.tenant, record.run.id());
}

absl::StatusOr<v1::Run> RunManager::StartRun(const std::string& tenant, const v1::StartRunRequest& request) {
  Json input = request.has_input() ? StructToJson(request.input()) : Json();
  if (!request.fork_run_id().empty()) {
    if (request.fork_step() < 0) return absl::InvalidArgumentError("fork_step must not be negative");
    return CreateForkedRun(tenant, request.fork_run_id(),
                           request.fork_step() == 0 ? RunStore::kLatestStep : request.fork_step(), input);
  }
  absl::StatusOr<v1::Graph> graph = store_->GetGraph(tenant, request.graph_id());
  if (!graph.ok()) return graph.status();
  RunRecord record;
  record.tenant = tenant;
  record.graph = std::move(*graph);
  record.run.set_id(NewId("run"));
  record.run.set_graph_id(record.graph.id());
  record.run.set_step(0);
  GraphValidationContext context;
  context.tools = options_.tools.get();
  absl::StatusOr<std::shared_ptr<const CompiledGraph>> compiled = CompileGraph(record.graph, context);
  if (!compiled.ok()) return compiled.status();
  absl::StatusOr<google::protobuf::Struct> initial = JsonToStruct((*compiled)->schema().InitialState());
  if (!initial.ok()) return initial.status();
  *record.run.mutable_state() = std::move(*initial);
  record.next_node = (*compiled)->start();
  return CreateAndDrive(std::move(record), input, kStartNode);
}

absl::StatusOr<v1::Run> RunManager::CreateForkedRun(const std::string& tenant, const std::string& source_run,
                                                    int64_t step, const Json& input) {
  absl::StatusOr<RunRecord> source = store_->GetRun(tenant, source_run);
  if (!source.ok()) return source.status();
  absl::StatusOr<CheckpointRecord> checkpoint = store_->GetCheckpoint(tenant, source_run, step);
  if (!checkpoint.ok()) return checkpoint.status();
  RunRecord record;
  record.tenant = tenant;
  record.graph = source->graph;
  record.run.set_id(NewId("run"));
  record.run.set_graph_id(source->run.graph_id());
  record.run.set_step(checkpoint->checkpoint.step());
  *record.run.mutable_state() = checkpoint->checkpoint.state();
  record.next_node = checkpoint->next_node;
  record.visits = checkpoint->visits;
  record.parent_run_id = source_run;
  record.parent_step = checkpoint->checkpoint.step();
  return CreateAndDrive(std::move(record), input, checkpoint->checkpoint.node_id());
}

absl::StatusOr<v1::Run> RunManager::Replay(const std::string& tenant, const std::string& run_id, int64_t step) {
  if (step < 0) return absl::InvalidArgumentError("step must not be negative");
  return CreateForkedRun(tenant, run_id, step, Json());
}

absl::StatusOr<v1::Run> RunManager::GetRun(const std::string& tenant, const std::string& run_id) {
  return FinishControlCall(tenant, run_id);
}

absl::StatusOr<v1::Run> RunManager::ResolveInterrupt(const std::string& tenant, const std::string& run_id,
                                                     const std::string& action_id, bool tool_action,
                                                     Json resolution) {
  absl::Status claimed = ClaimRun(tenant, run_id);
  if (!claimed.ok()) return claimed;
  auto fail = [&](absl::Status status) -> absl::StatusOr<v1::Run> {
    ReleaseRun(tenant, run_id);
    return status;
  };
  absl::StatusOr<RunRecord> record = store_->GetRun(tenant, run_id);
  if (!record.ok()) return fail(record.status());
  if (record->run.status() != v1::INTERRUPTED) {
    return fail(absl::FailedPreconditionError(absl::StrCat("run '", run_id, "' is not interrupted (status ",
                                                           v1::RunStatus_Name(record->run.status()), ")")));
  }
  const v1::PendingAction& pending = record->run.pending_action();
  if (!action_id.empty() && action_id != pending.id()) {
    return fail(absl::NotFoundError(absl::StrCat("run '", run_id, "' has no pending action '", action_id,
                                                 "' (pending: '", pending.id(), "')")));
  }
  if (tool_action && pending.tool().empty()) {
    return fail(absl::FailedPreconditionError("the run waits for a human answer; use ResumeRun"));
  }
  if (!tool_action && !pending.tool().empty()) {
    return fail(absl::FailedPreconditionError(absl::StrCat("the run waits for approval of tool '", pending.tool(),
                                                           "'; use ApproveAction or RejectAction")));
  }
  absl::StatusOr<std::shared_ptr<const CompiledGraph>> graph = CompileForRun(*record);
  if (!graph.ok()) return fail(graph.status());
  const CompiledNode* node = (*graph)->node(pending.node_id());
  if (node == nullptr) return fail(absl::InternalError("pending action names an unknown node"));

  // Reject bad decisions now, while the run is still waiting, rather than failing it later.
  if (resolution.value("kind", "") == "resume") {
    Json copy = StructToJson(record->run.state());
    const Json& update = resolution["update"];
    for (auto it = update.begin(); it != update.end(); ++it) {
      std::string channel = it.key();
      if (channel == "response") {
        channel = node->proto.human().output_channel();
        if (channel.empty()) {
          return fail(absl::InvalidArgumentError(absl::StrCat("human node '", node->proto.id(),
                                                              "' has no output_channel for 'response'")));
        }
      }
      absl::Status applied = (*graph)->schema().Apply(channel, it.value(), &copy);
      if (!applied.ok()) return fail(absl::InvalidArgumentError(absl::StrCat("resume update: ", applied.message())));
    }
  }
  if (resolution.value("kind", "") == "approve" && resolution["arguments"].is_object() &&
      !resolution["arguments"].empty()) {
    std::shared_ptr<Tool> tool = options_.tools->Find(pending.tool());
    if (tool == nullptr) return fail(absl::FailedPreconditionError(absl::StrCat("unknown tool '", pending.tool(), "'")));
    absl::Status valid = ValidateToolArguments(*tool, resolution["arguments"]);
    if (!valid.ok()) return fail(valid);
  }
  resolution["node_id"] = pending.node_id();
  resolution["action_id"] = pending.id();
  record->resolution = std::move(resolution);
  record->run.set_status(v1::RUNNING);
  record->run.clear_pending_action();
  absl::Status committed = Commit(*record, std::nullopt, {});
  if (!committed.ok()) return fail(committed);
  LaunchDriver(tenant, run_id);
  return FinishControlCall(tenant, run_id);
}

absl::StatusOr<v1::Run> RunManager::Resume(const std::string& tenant, const v1::ResumeRunRequest& request) {
  absl::StatusOr<RunRecord> record = store_->GetRun(tenant, request.run_id());
  if (!record.ok()) return record.status();
  if (record->run.status() == v1::RUNNING) {
    // Orphaned by a crash: continue from the last checkpoint.
    absl::Status claimed = ClaimRun(tenant, request.run_id());
    if (!claimed.ok()) return claimed;
    LaunchDriver(tenant, request.run_id());
    return FinishControlCall(tenant, request.run_id());
  }
  Json resolution = {{"kind", "resume"}, {"update", StructToJson(request.update())}};
  return ResolveInterrupt(tenant, request.run_id(), "", /*tool_action=*/false, std::move(resolution));
}

absl::StatusOr<v1::Run> RunManager::Approve(const std::string& tenant, const v1::ApproveActionRequest& request) {
  Json resolution = {{"kind", "approve"},
                     {"reviewer", request.reviewer()},
                     {"arguments", request.has_arguments() ? StructToJson(request.arguments()) : Json()}};
  return ResolveInterrupt(tenant, request.run_id(), request.action_id(), /*tool_action=*/true, std::move(resolution));
}

absl::StatusOr<v1::Run> RunManager::Reject(const std::string& tenant, const v1::RejectActionRequest& request) {
  Json resolution = {{"kind", "reject"}, {"reviewer", request.reviewer()}, {"reason", request.reason()}};
  return ResolveInterrupt(tenant, request.run_id(), request.action_id(), /*tool_action=*/true, std::move(resolution));
}

absl::StatusOr<v1::Run> RunManager::Cancel(const std::string& tenant, const v1::CancelRunRequest& request) {
  const std::string& run_id = request.run_id();
  absl::StatusOr<RunRecord> existing = store_->GetRun(tenant, run_id);
  if (!existing.ok()) return existing.status();
  if (ClaimRun(tenant, run_id).ok()) {
    absl::StatusOr<RunRecord> record = store_->GetRun(tenant, run_id);
    if (!record.ok() || IsTerminal(record->run.status())) {
      ReleaseRun(tenant, run_id);
      if (!record.ok()) return record.status();
      return absl::FailedPreconditionError(absl::StrCat("run '", run_id, "' already finished (",
                                                        v1::RunStatus_Name(record->run.status()), ")"));
    }
    record->run.set_status(v1::CANCELLED);
    record->run.set_error("cancelled");
    record->run.clear_pending_action();
    record->resolution = Json();
    absl::Status status = Commit(*record, std::nullopt,
                                 {MakeEvent(run_id, record->run.step(), "", v1::RunEvent::FINISHED, "cancelled", Json(),
                                            v1::CANCELLED)});
    ReleaseRun(tenant, run_id);
    if (!status.ok()) return status;
    return record->run;
  }
  // Being driven: ask the driver to stop at the next step boundary and wait for it.
  std::unique_lock<std::mutex> lock(mu_);
  cancel_.insert({tenant, run_id});
  idle_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return active_.count({tenant, run_id}) == 0; });
  lock.unlock();
  return FinishControlCall(tenant, run_id);
}

absl::StatusOr<v1::Checkpoint> RunManager::GetCheckpoint(const std::string& tenant,
                                                         const v1::GetCheckpointRequest& request) {
  if (request.step() < 0) return absl::InvalidArgumentError("step must not be negative");
  absl::StatusOr<CheckpointRecord> record =
      store_->GetCheckpoint(tenant, request.run_id(), request.step() == 0 ? RunStore::kLatestStep : request.step());
  if (!record.ok()) return record.status();
  return record->checkpoint;
}

absl::StatusOr<v1::ListCheckpointsResponse> RunManager::ListCheckpoints(const std::string& tenant,
                                                                       const v1::ListCheckpointsRequest& request) {
  absl::StatusOr<RunRecord> run = store_->GetRun(tenant, request.run_id());
  if (!run.ok()) return run.status();
  absl::StatusOr<std::pair<int64_t, int64_t>> bounds = PageBounds(request.page());
  if (!bounds.ok()) return bounds.status();
  int64_t total = 0;
  absl::StatusOr<std::vector<CheckpointRecord>> records =
      store_->ListCheckpoints(tenant, request.run_id(), bounds->first, bounds->second, &total);
  if (!records.ok()) return records.status();
  v1::ListCheckpointsResponse response;
  for (CheckpointRecord& record : *records) *response.add_checkpoints() = std::move(record.checkpoint);
  FillPage(bounds->first, response.checkpoints_size(), total, response.mutable_page());
  return response;
}

absl::StatusOr<int64_t> RunManager::Subscribe(const std::string& tenant, const std::string& run_id,
                                              int64_t after_step, int64_t after_sequence,
                                              EventCallback callback) {
  if (callback == nullptr) return absl::InvalidArgumentError("null callback");
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  absl::StatusOr<RunRecord> run = store_->GetRun(tenant, run_id);
  if (!run.ok()) return run.status();
  absl::StatusOr<std::vector<v1::RunEvent>> stored =
      store_->ListEvents(tenant, run_id, after_step, after_sequence);
  if (!stored.ok()) return stored.status();
  for (const v1::RunEvent& event : *stored) callback(event);
  int64_t id = next_subscription_++;
  subscribers_[id] = {tenant, run_id, std::move(callback)};
  return id;
}

void RunManager::Unsubscribe(int64_t subscription_id) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  subscribers_.erase(subscription_id);
}

absl::StatusOr<std::vector<v1::RunEvent>> RunManager::ListEvents(const std::string& tenant, const std::string& run_id,
                                                                int64_t after_step,
                                                                int64_t after_sequence) {
  absl::StatusOr<RunRecord> run = store_->GetRun(tenant, run_id);
  if (!run.ok()) return run.status();
  return store_->ListEvents(tenant, run_id, after_step, after_sequence);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RunManager::RecoverRuns() {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> orphans = store_->RunsWithStatus(v1::RUNNING);
  if (!orphans.ok()) return orphans.status();
  std::vector<std::pair<std::string, std::string>> recovered;
  for (const auto& [tenant, run_id] : *orphans) {
    if (!ClaimRun(tenant, run_id).ok()) continue;  // Already being driven.
    recovered.emplace_back(tenant, run_id);
    LaunchDriver(tenant, run_id);
  }
  return recovered;
}

absl::StatusOr<v1::Run> RunManager::WaitForRun(const std::string& tenant, const std::string& run_id,
                                               absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<v1::Run> run = GetRun(tenant, run_id);
    if (!run.ok()) return run;
    bool active;
    {
      std::lock_guard<std::mutex> lock(mu_);
      active = active_.count({tenant, run_id}) > 0;
    }
    if (run->status() != v1::RUNNING && !active) return run;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("run '", run_id, "' still running after ",
                                                      absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace tessera::agents
