#include "gateway/router_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tessera::gateway {
namespace {

using Json = nlohmann::json;

absl::StatusOr<RouterConfig> Parse(const std::string& text) {
  return ParseRouterConfig(Json::parse(text));
}

std::string ErrorOf(const std::string& text) {
  auto config = Parse(text);
  EXPECT_FALSE(config.ok()) << text;
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(RouterConfigTest, DefaultsServeTheLocalEngine) {
  RouterConfig config = DefaultRouterConfig();
  ASSERT_EQ(config.backends.size(), 1u);
  EXPECT_EQ(config.backends[0].kind, BackendKind::kLocal);
  EXPECT_EQ(LocalBackend(config).name, "local");
  EXPECT_TRUE(config.enabled);
  EXPECT_EQ(config.auth, AuthMode::kAuto);
  EXPECT_TRUE(ValidateRouterConfig(config).ok());
  // An empty section is the defaults.
  auto parsed = Parse("{}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->backends.size(), 1u);
}

TEST(RouterConfigTest, ParsesEverySection) {
  auto config = Parse(R"({
    "backends": [
      {"name": "vllm", "kind": "openai", "address": "http://127.0.0.1:8000/v1",
       "api_key_env": "VLLM_KEY", "default_model": "llama3", "max_retries": 0,
       "initial_backoff_ms": 50, "timeout_seconds": 30,
       "prompt_micros_per_1k_tokens": 10, "completion_micros_per_1k_tokens": 30},
      {"name": "remote", "kind": "grpc", "address": "10.0.0.2:50051"}
    ],
    "routes": [
      {"name": "chat", "targets": [{"backend": "local", "weight": 0.9},
                                   {"backend": "vllm", "model": "llama3", "weight": 0.1},
                                   {"backend": "remote", "shadow": true}],
       "fallbacks": ["local"]}
    ],
    "default_route": "chat",
    "auth": "required",
    "limits": {"default": {"requests_per_minute": 600},
               "tenants": {"acme": {"requests_per_minute": 5, "tokens_per_minute": 1000,
                                    "budget_micros": 100, "budget_period_seconds": 3600}}},
    "cache": {"enabled": false, "max_bytes": 1024, "ttl_seconds": 5},
    "guardrails": {"input_pii": "mask", "output_pii": "flag", "pii_types": ["EMAIL", "iban"],
                   "blocked_terms": ["secret"], "blocked_terms_action": "flag",
                   "prompt_injection": "block"},
    "circuit_breaker": {"minimum_calls": 4, "open_seconds": 0.5, "half_open_probes": 1,
                        "failure_rate_threshold": 0.5, "window_seconds": 10}
  })");
  ASSERT_TRUE(config.ok()) << config.status();
  // The local backend is added because none was declared.
  ASSERT_EQ(config->backends.size(), 3u);
  EXPECT_EQ(config->backends[0].name, "local");
  const BackendConfig& vllm = config->backends[1];
  EXPECT_EQ(vllm.kind, BackendKind::kOpenAi);
  EXPECT_EQ(vllm.api_key_env, "VLLM_KEY");
  EXPECT_EQ(vllm.max_retries, 0);
  EXPECT_EQ(vllm.initial_backoff, absl::Milliseconds(50));
  EXPECT_EQ(vllm.timeout, absl::Seconds(30));
  EXPECT_EQ(vllm.completion_micros_per_1k_tokens, 30);
  ASSERT_EQ(config->routes.size(), 1u);
  EXPECT_EQ(config->routes[0].targets_size(), 3);
  EXPECT_DOUBLE_EQ(config->routes[0].targets(1).weight(), 0.1);
  EXPECT_TRUE(config->routes[0].targets(2).shadow());
  EXPECT_EQ(config->default_route, "chat");
  EXPECT_EQ(config->auth, AuthMode::kRequired);
  EXPECT_EQ(config->default_limits.requests_per_minute, 600);
  EXPECT_EQ(config->tenant_limits.at("acme").budget_period, absl::Hours(1));
  EXPECT_FALSE(config->cache.enabled);
  EXPECT_EQ(config->cache.ttl, absl::Seconds(5));
  EXPECT_EQ(config->guardrails.input_pii, GuardrailAction::kMask);
  EXPECT_EQ(config->guardrails.pii_types, (std::set<PiiType>{PiiType::kEmail, PiiType::kIban}));
  EXPECT_EQ(config->guardrails.prompt_injection, GuardrailAction::kBlock);
  EXPECT_EQ(config->circuit_breaker.minimum_calls, 4);
  EXPECT_EQ(config->circuit_breaker.open_duration, absl::Milliseconds(500));
}

TEST(RouterConfigTest, ErrorsNameThePath) {
  EXPECT_NE(ErrorOf(R"({"backend": []})").find("unknown key \"backend\""), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"backends": [{"name": "x", "kind": "http"}]})")
                .find("router.backends[0].kind: want local, grpc or openai"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"backends": [{"name": "x"}]})").find("\"kind\" is required"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"backends": [{"name": "x", "kind": "openai", "address": "127.0.0.1"}]})")
                .find("base URL"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"backends": [{"name": "x", "kind": "grpc"}]})").find("host:port"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"backends": [{"name": "local", "kind": "grpc", "address": "h:1"},
                                     {"name": "local", "kind": "local"}]})")
                .find("declared twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "r", "targets": [{"backend": "nope"}]}]})")
                .find("router.routes[0].targets[0]: unknown backend \"nope\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "r", "targets": [{"backend": "local"}],
                                    "fallbacks": ["gone"]}]})")
                .find("router.routes[0].fallbacks[0]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "r", "targets": [{"backend": "local", "weight": 0}]}]})")
                .find("no target with a positive weight"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "r", "targets": [{"backend": "local", "weight": -1}]}]})")
                .find("router.routes[0].targets[0].weight"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"default_route": "missing"})").find("unknown route \"missing\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"auth": "maybe"})").find("want auto, required or off"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"guardrails": {"output_pii": "block"}})").find("router.guardrails.output_pii"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"guardrails": {"pii_types": ["PASSPORT"]}})").find("PASSPORT"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"limits": {"tenants": {"a": {"requests_per_minute": "ten"}}}})")
                .find("router.limits.tenants.a.requests_per_minute"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"circuit_breaker": {"failure_rate_threshold": 2}})").find("[0, 1]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"([1])").find("must be a JSON object"), std::string::npos);
}

TEST(RouterConfigTest, ParsesServicesHealthChecksAndCanaries) {
  auto config = Parse(R"({
    "backends": [{"name": "vllm", "kind": "openai", "address": "http://127.0.0.1:8000/v1",
                  "health_path": "/health"}],
    "routes": [{"name": "chat", "targets": [{"backend": "local"}, {"backend": "vllm", "weight": 0}],
                "canary": {"backend": "vllm", "steps": [0.05, 0.5, 1], "step_seconds": 60,
                           "min_requests": 50, "max_error_rate": 0.01, "latency_slo_ms": 800,
                           "latency_quantile": 0.99, "max_quality_drop": 0.1}}],
    "services": {"agents": "10.0.0.7:50051", "eval": ["10.0.0.8:1", "10.0.0.9:2"]},
    "health_check": {"interval_ms": 250, "timeout_ms": 100, "unhealthy_threshold": 3,
                     "healthy_threshold": 2},
    "canary_evaluate_ms": 500
  })");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->backends[1].health_path, "/health");
  EXPECT_EQ(config->services.at("agents"), std::vector<std::string>{"10.0.0.7:50051"});
  EXPECT_EQ(config->services.at("eval").size(), 2u);
  EXPECT_EQ(config->health_check.interval, absl::Milliseconds(250));
  EXPECT_EQ(config->health_check.unhealthy_threshold, 3);
  EXPECT_EQ(config->canary_evaluate_every, absl::Milliseconds(500));
  const CanaryOptions& canary = config->canaries.at("chat");
  EXPECT_EQ(canary.canary_backend, "vllm");
  EXPECT_EQ(canary.steps, (std::vector<double>{0.05, 0.5, 1}));
  EXPECT_EQ(canary.step_duration, absl::Seconds(60));
  EXPECT_EQ(canary.latency_slo, absl::Milliseconds(800));
  EXPECT_DOUBLE_EQ(canary.max_quality_drop, 0.1);
}

TEST(RouterConfigTest, RejectsBadServicesAndCanaries) {
  EXPECT_NE(ErrorOf(R"({"services": {"gateway": "h:1"}})").find("router.services.gateway"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"services": {"eval": "http://h:1"}})").find("host:port"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"services": {"eval": []}})").find("no address"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "chat", "targets": [{"backend": "local"}],
                                    "canary": {"backend": "nope"}}]})")
                .find("not a (non-shadow) target"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "chat", "targets": [{"backend": "local"}],
                                    "canary": {"backend": "local"}}]})")
                .find("baseline target"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "c", "targets": [{"backend": "local"}],
                                    "canary": {"steps": [0.5, 0.1]}}]})")
                .find("must not decrease"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"health_check": {"interval_ms": 0}})").find("router.health_check"),
            std::string::npos);
}

TEST(RouterConfigTest, ParsesSemanticCachesAndInjectionSimilarity) {
  auto config = Parse(R"({
    "routes": [{"name": "faq", "targets": [{"backend": "local"}],
                "semantic_cache": {"threshold": 0.9, "ttl_seconds": 30, "max_entries": 50,
                                   "per_user": true, "bypass_patterns": ["\\bstock\\b"],
                                   "embedding_model": "minilm"}}],
    "guardrails": {"prompt_injection": "block",
                   "injection_similarity": {"threshold": 0.8, "attacks": ["leak the keys"]}}
  })");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->semantic_caches.count("faq"), 1u);
  const SemanticCacheOptions& cache = config->semantic_caches.at("faq");
  EXPECT_DOUBLE_EQ(cache.threshold, 0.9);
  EXPECT_EQ(cache.ttl, absl::Seconds(30));
  EXPECT_EQ(cache.max_entries, 50);
  EXPECT_TRUE(cache.per_user);
  ASSERT_TRUE(cache.bypass_patterns.has_value());
  EXPECT_EQ(cache.bypass_patterns->at(0), "\\bstock\\b");
  EXPECT_EQ(cache.embedding_model, "minilm");
  ASSERT_TRUE(config->guardrails.injection_similarity.has_value());
  EXPECT_DOUBLE_EQ(config->guardrails.injection_similarity->threshold, 0.8);
  EXPECT_EQ(config->guardrails.injection_similarity->attacks.size(), 1u);

  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "faq", "targets": [{"backend": "local"}],
                                    "semantic_cache": {"threshold": 2}}]})")
                .find("router.routes[\"faq\"].semantic_cache.threshold"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "faq", "targets": [{"backend": "local"}],
                                    "semantic_cache": {"bypass_patterns": ["("]}}]})")
                .find("bypass_patterns[0]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"routes": [{"name": "faq", "targets": [{"backend": "local"}],
                                    "semantic_cache": {"treshold": 0.9}}]})")
                .find("treshold"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"guardrails": {"injection_similarity": {}}})").find("needs prompt_injection"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::gateway
