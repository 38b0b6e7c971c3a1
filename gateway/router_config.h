// The router's configuration: model backends, routes over them (weighted
// targets, fallbacks, shadows), authentication, per-tenant limits, the response
// cache, guardrails and circuit breakers. Read from the "router" object of the
// server's JSON config; every field has a default, unknown keys are errors, and
// errors name the offending path ("router.routes[1].targets[0].backend").
//
//   "router": {
//     "backends": [{"name": "vllm", "kind": "openai", "address": "http://10.0.0.5:8000/v1",
//                   "api_key_env": "VLLM_KEY", "max_retries": 2},
//                  {"name": "gpu-box", "kind": "grpc", "address": "10.0.0.6:50051"}],
//     "routes": [{"name": "chat",
//                 "targets": [{"backend": "local", "weight": 0.9},
//                             {"backend": "vllm", "model": "llama-3-8b", "weight": 0.1},
//                             {"backend": "gpu-box", "shadow": true}],
//                 "fallbacks": ["local"]}],
//     "default_route": "chat",
//     "auth": "auto",  // keys from `tessera keys create`
//     "limits": {"default": {"requests_per_minute": 600},
//                "tenants": {"acme": {"tokens_per_minute": 100000, "budget_micros": 5000000}}},
//     "cache": {"ttl_seconds": 600},
//     "guardrails": {"input_pii": "mask", "output_pii": "mask", "prompt_injection": "flag"},
//     "circuit_breaker": {"minimum_calls": 20, "open_seconds": 30},
//     "services": {"agents": "10.0.0.7:50051", "eval": ["10.0.0.8:50051", "10.0.0.9:50051"]},
//     "health_check": {"interval_ms": 5000, "timeout_ms": 1000, "unhealthy_threshold": 2}
//   }
// A route may also carry "canary": {"backend": "vllm", "steps": [0.05, 0.25, 1],
// "step_seconds": 300, "max_error_rate": 0.02, "latency_slo_ms": 1000,
// "max_quality_drop": 0.05}: the controller ramps that target's share.
// A route may carry "intent" (see gateway/intent_classifier.h): a query's
// class, from the nearest centroid of embedded labelled examples, picks the
// backend tried first. "policy": "cheapest" (default "weighted") orders the
// route's attempts by backend price (prompt + completion micros per 1k tokens),
// cheapest first; backends failing health checks are skipped as usual.
// A route may carry "semantic_cache" (see gateway/semantic_cache.h): answers
// reused for questions whose embeddings are close enough.
#ifndef TESSERA_GATEWAY_ROUTER_CONFIG_H_
#define TESSERA_GATEWAY_ROUTER_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/circuit_breaker.h"
#include "gateway/guardrails.h"
#include "gateway/intent_classifier.h"
#include "gateway/known_attacks.h"
#include "gateway/rate_limiter.h"
#include "gateway/routing_policy.h"
#include "gateway/semantic_cache.h"
#include "tessera/gateway/v1/gateway.pb.h"

namespace tessera::gateway {

enum class BackendKind {
  kLocal,   // the engine in this process
  kGrpc,    // a tessera.generation.v1 server at host:port
  kOpenAi,  // an OpenAI-compatible HTTP endpoint (vLLM, TGI, hosted APIs)
};

// "local", "grpc", "openai" (as in tessera.gateway.v1.Backend.kind).
const char* BackendKindName(BackendKind kind);

struct BackendConfig {
  std::string name;
  BackendKind kind = BackendKind::kLocal;
  // grpc: "host:port"; openai: the base URL up to the version
  // ("http://127.0.0.1:8000/v1"); local: empty.
  std::string address;
  // openai: the environment variable holding the API key (empty: none).
  std::string api_key_env;
  // openai: the model sent when a route target names none.
  std::string default_model;
  // Retries after the first attempt on retryable errors (429, 5xx, connection
  // errors, UNAVAILABLE), with exponential backoff and jitter from
  // `initial_backoff`.
  int max_retries = 1;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  // Limit for one call to the backend (streams: until the last byte).
  absl::Duration timeout = absl::Seconds(120);
  // openai: also send top_k and repetition_penalty (vLLM, llama.cpp).
  bool extended_sampling = false;
  // Price in micro-units per 1000 tokens, for cost accounting and budgets.
  int64_t prompt_micros_per_1k_tokens = 0;
  int64_t completion_micros_per_1k_tokens = 0;
  // openai: the path probed with GET by active health checks ("/health" is
  // relative to the address's origin; a full URL is used as it is). Empty: the
  // backend is not probed. grpc backends are probed with grpc.health.v1.
  std::string health_path;
};

// Active health checks of remote backends (model backends and the service
// backends in `services`): a backend failing `unhealthy_threshold` probes in a
// row leaves rotation until it passes `healthy_threshold` in a row.
struct HealthCheckConfig {
  bool enabled = true;
  absl::Duration interval = absl::Seconds(5);
  absl::Duration timeout = absl::Seconds(1);
  int unhealthy_threshold = 2;
  int healthy_threshold = 1;
};

enum class GuardrailAction { kOff, kFlag, kMask, kBlock };

// "off", "flag", "mask", "block".
const char* GuardrailActionName(GuardrailAction action);

struct GuardrailConfig {
  // PII in prompts: mask (placeholders the response is unmasked from), flag
  // (report only) or block the request.
  GuardrailAction input_pii = GuardrailAction::kOff;
  // PII in responses that the caller did not send: mask or flag.
  GuardrailAction output_pii = GuardrailAction::kOff;
  std::set<PiiType> pii_types = {PiiType::kEmail, PiiType::kPhone, PiiType::kCreditCard,
                                 PiiType::kIban,  PiiType::kSsn,   PiiType::kIpv4};
  // Whole-word, case-insensitive terms; the action is block or flag.
  std::vector<std::string> blocked_terms;
  GuardrailAction blocked_terms_action = GuardrailAction::kBlock;
  // Prompt-injection heuristics: flag or block.
  GuardrailAction prompt_injection = GuardrailAction::kOff;
  // Also compare the caller's texts with known attacks by embedding (same
  // action as prompt_injection, which must be on).
  std::optional<KnownAttackOptions> injection_similarity;
};

struct CacheConfig {
  bool enabled = true;
  int64_t max_bytes = 64 << 20;
  absl::Duration ttl = absl::Minutes(10);
};

enum class AuthMode {
  kAuto,      // API keys required once the key store holds an active key
  kRequired,  // always required
  kOff,       // never checked; callers name their tenant in x-tessera-tenant
};

struct RouterConfig {
  // When false, services are served without the router (no auth, limits,
  // caching or guardrails); for benchmarks and debugging.
  bool enabled = true;
  // Always holds a kLocal backend (named "local" unless one is declared).
  std::vector<BackendConfig> backends;
  std::vector<tessera::gateway::v1::Route> routes;
  // The route for requests that name no model; empty: the local engine.
  std::string default_route;
  AuthMode auth = AuthMode::kAuto;
  TenantLimits default_limits;
  std::map<std::string, TenantLimits> tenant_limits;
  CacheConfig cache;
  GuardrailConfig guardrails;
  CircuitBreakerOptions circuit_breaker;
  // Mirrored (shadow) calls in flight at most; more are dropped and counted.
  int max_shadow_in_flight = 16;
  // Public services served by other processes: short service name (ingest,
  // retrieval, agents, eval) -> backend addresses ("host:port"). Calls are
  // forwarded to a healthy one, with the caller's deadline and cancellation.
  std::map<std::string, std::vector<std::string>> services;
  HealthCheckConfig health_check;
  // Automatic canary ramps by route name (the route's "canary" object).
  std::map<std::string, CanaryOptions> canaries;
  // How often (at most) a route's canary controller is evaluated on traffic.
  absl::Duration canary_evaluate_every = absl::Seconds(1);
  // Intent routers by route name (the route's "intent" object).
  std::map<std::string, IntentOptions> intents;
  // Routes whose "policy" is "cheapest".
  std::set<std::string> cheapest_routes;
  // Semantic caches by route name (the route's "semantic_cache" object).
  std::map<std::string, SemanticCacheOptions> semantic_caches;
};

// The configuration used without a "router" section: the local engine only.
RouterConfig DefaultRouterConfig();

// Parses the "router" JSON object over the defaults and validates it.
absl::StatusOr<RouterConfig> ParseRouterConfig(const nlohmann::json& json);

// Checks references between backends and routes, names, weights and limits.
absl::Status ValidateRouterConfig(const RouterConfig& config);

// The backend for requests that name no route (the first local one).
const BackendConfig& LocalBackend(const RouterConfig& config);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_ROUTER_CONFIG_H_
