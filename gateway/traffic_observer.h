// A hook on the router's generation path: every completed Generate and
// GenerateStream call through a route is reported once, after the answer has
// been produced, so that quality can be measured on live traffic (online
// evaluation in eval/). Owned by the online evaluator; the router only calls it.
#ifndef TESSERA_GATEWAY_TRAFFIC_OBSERVER_H_
#define TESSERA_GATEWAY_TRAFFIC_OBSERVER_H_

#include <string>

namespace tessera::gateway {

// What the router knows about one finished exchange. Texts are as the backend
// saw and wrote them (PII still masked), so an observer never handles more
// than the backend did.
struct CompletedExchange {
  std::string tenant;
  std::string request_id;
  std::string route;    // "" when the request named a model, not a route
  std::string variant;  // the backend that served it (the canary/A-B arm)
  std::string model;    // the model name sent to the backend
  std::string prompt;   // the prompt, or the chat messages as "role: content" lines
  std::string output;
  bool cache_hit = false;
};

class TrafficObserver {
 public:
  virtual ~TrafficObserver() = default;
  // Called on the request path: must not block (queue and return).
  virtual void OnCompleted(const CompletedExchange& exchange) = 0;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_TRAFFIC_OBSERVER_H_
