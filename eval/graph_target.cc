#include "eval/graph_target.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"

namespace tessera::eval {
namespace {

namespace av1 = ::tessera::agents::v1;

constexpr const char* kInputChannels[] = {"question", "input", "query", "prompt", "task"};
constexpr const char* kOutputChannels[] = {"answer", "final", "output", "response", "result"};

struct Channels {
  std::string input;     // a STRING channel, or
  std::string messages;  // a MESSAGES channel
};

absl::StatusOr<Channels> FindChannels(const av1::Graph& graph) {
  Channels found;
  auto has = [&](const std::string& name, av1::Channel::Type type) {
    for (const av1::Channel& channel : graph.channels()) {
      if (channel.name() == name && channel.type() == type) return true;
    }
    return false;
  };
  for (const char* name : kInputChannels) {
    if (has(name, av1::Channel::STRING)) {
      found.input = name;
      break;
    }
  }
  for (const av1::Channel& channel : graph.channels()) {
    if (channel.type() == av1::Channel::MESSAGES) {
      found.messages = channel.name();
      break;
    }
  }
  if (found.input.empty() && found.messages.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target.graph_id: graph \"", graph.id(), "\" has no input channel (a STRING channel named ",
        absl::StrJoin(kInputChannels, ", "), ", or a MESSAGES channel)"));
  }
  bool output = !found.messages.empty();
  for (const char* name : kOutputChannels) output |= has(name, av1::Channel::STRING);
  if (!output) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target.graph_id: graph \"", graph.id(), "\" has no output channel (a STRING channel named ",
        absl::StrJoin(kOutputChannels, ", "), ", or a MESSAGES channel)"));
  }
  return found;
}

std::string LastAssistantMessage(const Json& messages) {
  if (!messages.is_array()) return "";
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->is_object() && it->value("role", "") == "assistant" && (*it)["content"].is_string()) {
      return (*it)["content"].get<std::string>();
    }
  }
  return "";
}

}  // namespace

absl::Status RunManagerGraphRunner::CheckGraph(const std::string& tenant, const std::string& graph_id) {
  auto graph = runs_->GetGraph(tenant, graph_id);
  if (!graph.ok()) {
    if (graph.status().code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(absl::StrCat("target.graph_id: no graph \"", graph_id, "\""));
    }
    return graph.status();
  }
  return FindChannels(*graph).status();
}

absl::StatusOr<GraphOutput> RunManagerGraphRunner::Run(const std::string& tenant, const std::string& graph_id,
                                                       const v1::EvalCase& c) {
  auto graph = runs_->GetGraph(tenant, graph_id);
  if (!graph.ok()) return graph.status();
  auto channels = FindChannels(*graph);
  if (!channels.ok()) return channels.status();
  Json input = Json::object();
  if (!channels->input.empty()) {
    input[channels->input] = c.input();
  } else {
    input[channels->messages] = Json::array({{{"role", "user"}, {"content", c.input()}}});
  }
  av1::StartRunRequest start;
  start.set_graph_id(graph_id);
  auto state = JsonToStruct(input);
  if (!state.ok()) return state.status();
  *start.mutable_input() = *std::move(state);
  auto run = runs_->StartRun(tenant, start);
  if (!run.ok()) return run.status();
  if (run->status() == av1::RUNNING) {
    run = runs_->WaitForRun(tenant, run->id(), timeout_);
    if (!run.ok()) return run.status();
  }
  if (run->status() != av1::SUCCEEDED) {
    const std::string why = run->status() == av1::INTERRUPTED
                                ? "stopped for a human decision (graphs with approvals cannot be evaluated unattended)"
                            : run->status() == av1::RUNNING ? "did not finish in time"
                                                            : absl::StrCat("ended ", av1::RunStatus_Name(run->status()),
                                                                           run->error().empty() ? "" : ": ", run->error());
    return absl::FailedPreconditionError(absl::StrCat("graph \"", graph_id, "\" run ", run->id(), " ", why));
  }
  const Json final_state = StructToJson(run->state());
  GraphOutput out;
  out.run_id = run->id();
  out.usage = run->usage();
  for (const char* name : kOutputChannels) {
    if (final_state.contains(name) && final_state[name].is_string() && !final_state[name].get<std::string>().empty()) {
      out.output = final_state[name].get<std::string>();
      break;
    }
  }
  if (out.output.empty() && !channels->messages.empty() && final_state.contains(channels->messages)) {
    out.output = LastAssistantMessage(final_state[channels->messages]);
  }
  if (out.output.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("graph \"", graph_id, "\" run ", run->id(), " succeeded without an answer in its state"));
  }
  if (final_state.contains("context") && final_state["context"].is_string() &&
      !final_state["context"].get<std::string>().empty()) {
    out.contexts.push_back(final_state["context"].get<std::string>());
  } else if (final_state.contains("contexts") && final_state["contexts"].is_array()) {
    for (const Json& item : final_state["contexts"]) {
      if (item.is_string()) out.contexts.push_back(item.get<std::string>());
    }
  }
  return out;
}

}  // namespace tessera::eval
