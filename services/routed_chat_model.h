// Agents' and evaluation's models reached through the gateway's ModelRouter:
// a ChatModel registered under a route name sends its calls to that route, so
// judges, eval targets and LLM nodes get the route's backends (local engine,
// remote gRPC engines, OpenAI-compatible APIs) with its retries, fallbacks,
// circuit breakers and prices.
#ifndef TESSERA_SERVICES_ROUTED_CHAT_MODEL_H_
#define TESSERA_SERVICES_ROUTED_CHAT_MODEL_H_

#include <string>

#include "absl/time/time.h"
#include "agents/chat_model.h"
#include "gateway/model_router.h"

namespace tessera::services {

class RoutedChatModel : public agents::ChatModel {
 public:
  // `router` must outlive this object; `route` is the model name sent to it.
  // Each call is given `timeout` (a judge must not hang a job forever).
  RoutedChatModel(gateway::ModelRouter* router, std::string route,
                  absl::Duration timeout = absl::Minutes(2))
      : router_(router), route_(std::move(route)), timeout_(timeout) {}

  absl::StatusOr<agents::ChatResult> Generate(const std::vector<agents::ChatMessage>& messages,
                                              const std::vector<agents::ToolSpec>& tools,
                                              const agents::SamplingParams& sampling) override;
  // SupportsJsonSchema stays false: a route may reach a backend that ignores
  // response_format, so judges keep asking for (and parsing) plain text.

 private:
  gateway::ModelRouter* router_;
  const std::string route_;
  const absl::Duration timeout_;
};

// Registers a RoutedChatModel under every route name of `router`. A route
// named like an already registered model replaces it, as the router itself
// would send that name to the route.
void RegisterRoutes(gateway::ModelRouter* router, agents::ModelRegistry* models);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_ROUTED_CHAT_MODEL_H_
