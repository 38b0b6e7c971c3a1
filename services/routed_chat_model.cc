#include "services/routed_chat_model.h"

#include <memory>

#include "absl/time/clock.h"

namespace tessera::services {

absl::StatusOr<agents::ChatResult> RoutedChatModel::Generate(
    const std::vector<agents::ChatMessage>& messages, const std::vector<agents::ToolSpec>& tools,
    const agents::SamplingParams& sampling) {
  generation::v1::GenerateRequest request;
  request.set_model(route_);
  for (const agents::ChatMessage& message : messages) *request.add_messages() = message;
  *request.mutable_sampling() = sampling;
  for (const agents::ToolSpec& tool : tools) {
    generation::v1::ToolSpec* spec = request.add_tools();
    spec->set_name(tool.name);
    spec->set_description(tool.description);
    if (!tool.parameters.is_null()) spec->set_parameters_json_schema(tool.parameters.dump());
  }
  gateway::RoutedCall call;
  call.backend.deadline = absl::Now() + timeout_;
  gateway::ServedBy served;
  auto response = router_->Generate(request, call, &served);
  if (!response.ok()) return response.status();

  agents::ChatResult result;
  result.text = response->text();
  result.tool_calls.assign(response->tool_calls().begin(), response->tool_calls().end());
  result.usage = response->usage();
  if (result.usage.cost_micros() == 0) {
    result.usage.set_cost_micros(router_->CostMicros(served.backend, result.usage));
  }
  if (sampling.logprobs()) {
    for (const generation::v1::GeneratedToken& token : response->tokens()) {
      agents::TokenLogprob& logprob = result.logprobs.emplace_back();
      logprob.token = token.text();
      logprob.logprob = token.logprob();
      for (const generation::v1::TokenLogprob& top : token.top_logprobs()) {
        logprob.top.push_back({top.token(), top.logprob()});
      }
    }
  }
  return result;
}

void RegisterRoutes(gateway::ModelRouter* router, agents::ModelRegistry* models) {
  for (const gateway::v1::Route& route : router->Routes()) {
    models->Register(route.name(), std::make_shared<RoutedChatModel>(router, route.name()));
  }
}

}  // namespace tessera::services
