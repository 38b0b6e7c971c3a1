#include "gateway/router_config.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/service_catalog.h"
#include "gateway/routing_policy.h"

namespace tessera::gateway {
namespace {

using Json = nlohmann::json;
using tessera::gateway::v1::Route;
using tessera::gateway::v1::RouteTarget;

absl::Status Error(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// Visits each key of a JSON object; `on_key` returns NotFound for keys it does
// not know, which becomes an "unknown key" error naming the path.
absl::Status ForEachKey(const Json& json, const std::string& path,
                        const std::function<absl::Status(const std::string& key, const Json& value,
                                                         const std::string& key_path)>& on_key) {
  if (!json.is_object()) return Error(path, "must be a JSON object");
  for (const auto& [key, value] : json.items()) {
    const std::string key_path = absl::StrCat(path, ".", key);
    absl::Status status = on_key(key, value, key_path);
    if (absl::IsNotFound(status)) return Error(path, absl::StrCat("unknown key \"", key, "\""));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Unknown() { return absl::NotFoundError(""); }

absl::Status ReadString(const Json& value, const std::string& path, std::string* out) {
  if (!value.is_string()) return Error(path, "must be a string");
  *out = value.get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadBool(const Json& value, const std::string& path, bool* out) {
  if (!value.is_boolean()) return Error(path, "must be true or false");
  *out = value.get<bool>();
  return absl::OkStatus();
}

absl::Status ReadNumber(const Json& value, const std::string& path, double minimum, double* out) {
  if (!value.is_number()) return Error(path, "must be a number");
  double number = value.get<double>();
  if (!std::isfinite(number) || number < minimum) {
    return Error(path, absl::StrCat("must be a number >= ", minimum));
  }
  *out = number;
  return absl::OkStatus();
}

absl::Status ReadInt(const Json& value, const std::string& path, int64_t minimum, int64_t* out) {
  if (!value.is_number_integer()) return Error(path, "must be an integer");
  int64_t number = value.get<int64_t>();
  if (number < minimum) return Error(path, absl::StrCat("must be >= ", minimum));
  *out = number;
  return absl::OkStatus();
}

absl::Status ReadInt(const Json& value, const std::string& path, int64_t minimum, int* out) {
  int64_t number;
  absl::Status status = ReadInt(value, path, minimum, &number);
  if (status.ok()) {
    if (number > (1 << 30)) return Error(path, "is too large");
    *out = static_cast<int>(number);
  }
  return status;
}

absl::Status ReadSeconds(const Json& value, const std::string& path, absl::Duration* out) {
  double seconds;
  absl::Status status = ReadNumber(value, path, 0, &seconds);
  if (status.ok()) *out = absl::Seconds(seconds);
  return status;
}

absl::Status ReadStrings(const Json& value, const std::string& path, std::vector<std::string>* out) {
  if (!value.is_array()) return Error(path, "must be an array of strings");
  out->clear();
  for (size_t i = 0; i < value.size(); ++i) {
    std::string item;
    absl::Status status = ReadString(value[i], absl::StrCat(path, "[", i, "]"), &item);
    if (!status.ok()) return status;
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::Status ParseAction(const Json& value, const std::string& path,
                         const std::vector<GuardrailAction>& allowed, GuardrailAction* out) {
  std::string name;
  absl::Status status = ReadString(value, path, &name);
  if (!status.ok()) return status;
  std::vector<std::string> names;
  for (GuardrailAction action : allowed) {
    names.push_back(GuardrailActionName(action));
    if (name == GuardrailActionName(action)) {
      *out = action;
      return absl::OkStatus();
    }
  }
  return Error(path, absl::StrCat("want one of ", absl::StrJoin(names, ", "), ", got \"", name,
                                  "\""));
}

absl::Status ParsePiiType(const std::string& name, const std::string& path, PiiType* out) {
  for (PiiType type : {PiiType::kEmail, PiiType::kPhone, PiiType::kCreditCard, PiiType::kIban,
                       PiiType::kSsn, PiiType::kIpv4}) {
    if (absl::AsciiStrToUpper(name) == PiiTypeTag(type)) {
      *out = type;
      return absl::OkStatus();
    }
  }
  return Error(path, absl::StrCat("unknown PII type \"", name,
                                  "\" (want EMAIL, PHONE, CREDIT_CARD, IBAN, SSN or IPV4)"));
}

absl::Status ParseBackend(const Json& json, const std::string& path, BackendConfig* backend) {
  bool has_kind = false;
  absl::Status status = ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                                   const std::string& key_path) {
    if (key == "name") return ReadString(value, key_path, &backend->name);
    if (key == "kind") {
      std::string kind;
      absl::Status read = ReadString(value, key_path, &kind);
      if (!read.ok()) return read;
      has_kind = true;
      if (kind == "local") {
        backend->kind = BackendKind::kLocal;
      } else if (kind == "grpc") {
        backend->kind = BackendKind::kGrpc;
      } else if (kind == "openai") {
        backend->kind = BackendKind::kOpenAi;
      } else {
        return Error(key_path, absl::StrCat("want local, grpc or openai, got \"", kind, "\""));
      }
      return absl::OkStatus();
    }
    if (key == "address") return ReadString(value, key_path, &backend->address);
    if (key == "api_key_env") return ReadString(value, key_path, &backend->api_key_env);
    if (key == "default_model") return ReadString(value, key_path, &backend->default_model);
    if (key == "max_retries") return ReadInt(value, key_path, 0, &backend->max_retries);
    if (key == "initial_backoff_ms") {
      double millis;
      absl::Status read = ReadNumber(value, key_path, 0, &millis);
      backend->initial_backoff = absl::Milliseconds(millis);
      return read;
    }
    if (key == "timeout_seconds") return ReadSeconds(value, key_path, &backend->timeout);
    if (key == "extended_sampling") return ReadBool(value, key_path, &backend->extended_sampling);
    if (key == "prompt_micros_per_1k_tokens") {
      return ReadInt(value, key_path, 0, &backend->prompt_micros_per_1k_tokens);
    }
    if (key == "completion_micros_per_1k_tokens") {
      return ReadInt(value, key_path, 0, &backend->completion_micros_per_1k_tokens);
    }
    if (key == "health_path") return ReadString(value, key_path, &backend->health_path);
    return Unknown();
  });
  if (!status.ok()) return status;
  if (!has_kind) return Error(path, "\"kind\" is required (local, grpc or openai)");
  return absl::OkStatus();
}

absl::Status ParseTarget(const Json& json, const std::string& path, RouteTarget* target) {
  target->set_weight(1);
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "backend") return ReadString(value, key_path, target->mutable_backend());
    if (key == "model") return ReadString(value, key_path, target->mutable_model());
    if (key == "weight") {
      double weight;
      absl::Status read = ReadNumber(value, key_path, 0, &weight);
      target->set_weight(weight);
      return read;
    }
    if (key == "shadow") {
      bool shadow;
      absl::Status read = ReadBool(value, key_path, &shadow);
      target->set_shadow(shadow);
      return read;
    }
    return Unknown();
  });
}

absl::Status ReadMillis(const Json& value, const std::string& path, absl::Duration* out) {
  double millis;
  absl::Status status = ReadNumber(value, path, 0, &millis);
  if (status.ok()) *out = absl::Milliseconds(millis);
  return status;
}

absl::Status ReadFraction(const Json& value, const std::string& path, double* out) {
  absl::Status status = ReadNumber(value, path, 0, out);
  if (status.ok() && *out > 1) return Error(path, "must be in [0, 1]");
  return status;
}

absl::Status ParseCanary(const Json& json, const std::string& path, CanaryOptions* canary) {
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "backend") return ReadString(value, key_path, &canary->canary_backend);
    if (key == "steps") {
      if (!value.is_array() || value.empty()) {
        return Error(key_path, "must be a non-empty array of shares in [0, 1]");
      }
      canary->steps.clear();
      for (size_t i = 0; i < value.size(); ++i) {
        double share;
        absl::Status status = ReadFraction(value[i], absl::StrCat(key_path, "[", i, "]"), &share);
        if (!status.ok()) return status;
        if (!canary->steps.empty() && share < canary->steps.back()) {
          return Error(key_path, "shares must not decrease");
        }
        canary->steps.push_back(share);
      }
      return absl::OkStatus();
    }
    if (key == "step_seconds") return ReadSeconds(value, key_path, &canary->step_duration);
    if (key == "min_requests") return ReadInt(value, key_path, 0, &canary->min_requests);
    if (key == "max_error_rate") return ReadFraction(value, key_path, &canary->max_error_rate);
    if (key == "latency_slo_ms") return ReadMillis(value, key_path, &canary->latency_slo);
    if (key == "latency_quantile") return ReadFraction(value, key_path, &canary->latency_quantile);
    if (key == "min_requests_for_rollback") {
      return ReadInt(value, key_path, 1, &canary->min_requests_for_rollback);
    }
    if (key == "max_quality_drop") return ReadNumber(value, key_path, 0, &canary->max_quality_drop);
    if (key == "baseline") return ReadString(value, key_path, &canary->baseline_backend);
    return Unknown();
  });
}

absl::Status ParseIntent(const Json& json, const std::string& path, IntentOptions* intent) {
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "examples") {
      if (!value.is_array()) return Error(key_path, "must be an array of {text, class}");
      for (size_t i = 0; i < value.size(); ++i) {
        IntentExample example;
        absl::Status status = ForEachKey(
            value[i], absl::StrCat(key_path, "[", i, "]"),
            [&](const std::string& field, const Json& field_value, const std::string& field_path) {
              if (field == "text") return ReadString(field_value, field_path, &example.text);
              if (field == "class") return ReadString(field_value, field_path, &example.label);
              return Unknown();
            });
        if (!status.ok()) return status;
        intent->examples.push_back(std::move(example));
      }
      return absl::OkStatus();
    }
    if (key == "classes") {
      if (!value.is_object()) return Error(key_path, "must map class names to backends");
      for (const auto& [label, backend] : value.items()) {
        absl::Status status = ReadString(backend, absl::StrCat(key_path, ".", label),
                                         &intent->class_backends[label]);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }
    if (key == "default") return ReadString(value, key_path, &intent->default_backend);
    if (key == "min_similarity") {
      absl::Status status = ReadNumber(value, key_path, -1, &intent->min_similarity);
      if (status.ok() && intent->min_similarity > 1) return Error(key_path, "must be <= 1");
      return status;
    }
    if (key == "embedding_model") return ReadString(value, key_path, &intent->embedding_model);
    return Unknown();
  });
}

absl::Status ParseSemanticCache(const Json& json, const std::string& path,
                                SemanticCacheOptions* options) {
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "threshold") return ReadNumber(value, key_path, 0, &options->threshold);
    if (key == "ttl_seconds") return ReadSeconds(value, key_path, &options->ttl);
    if (key == "max_entries") return ReadInt(value, key_path, 1, &options->max_entries);
    if (key == "per_user") return ReadBool(value, key_path, &options->per_user);
    if (key == "bypass_patterns") {
      options->bypass_patterns.emplace();
      return ReadStrings(value, key_path, &*options->bypass_patterns);
    }
    if (key == "embedding_model") return ReadString(value, key_path, &options->embedding_model);
    return Unknown();
  });
}

absl::Status ParseRoute(const Json& json, const std::string& path, Route* route,
                        RouterConfig* config) {
  std::optional<CanaryOptions> canary;
  std::optional<IntentOptions> intent;
  std::optional<SemanticCacheOptions> semantic_cache;
  bool cheapest = false;
  absl::Status status = ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                                   const std::string& key_path) {
    if (key == "canary") {
      canary.emplace();
      return ParseCanary(value, key_path, &*canary);
    }
    if (key == "intent") {
      intent.emplace();
      return ParseIntent(value, key_path, &*intent);
    }
    if (key == "semantic_cache") {
      semantic_cache.emplace();
      return ParseSemanticCache(value, key_path, &*semantic_cache);
    }
    if (key == "policy") {
      std::string policy;
      absl::Status status = ReadString(value, key_path, &policy);
      if (!status.ok()) return status;
      if (policy != "weighted" && policy != "cheapest") {
        return Error(key_path, "must be \"weighted\" or \"cheapest\"");
      }
      cheapest = policy == "cheapest";
      return absl::OkStatus();
    }
    if (key == "name") return ReadString(value, key_path, route->mutable_name());
    if (key == "targets") {
      if (!value.is_array()) return Error(key_path, "must be an array of targets");
      for (size_t i = 0; i < value.size(); ++i) {
        absl::Status status =
            ParseTarget(value[i], absl::StrCat(key_path, "[", i, "]"), route->add_targets());
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }
    if (key == "fallbacks") {
      std::vector<std::string> fallbacks;
      absl::Status status = ReadStrings(value, key_path, &fallbacks);
      for (std::string& fallback : fallbacks) route->add_fallbacks(std::move(fallback));
      return status;
    }
    return Unknown();
  });
  if (!status.ok()) return status;
  if (canary.has_value()) config->canaries[route->name()] = std::move(*canary);
  if (intent.has_value()) config->intents[route->name()] = std::move(*intent);
  if (cheapest) config->cheapest_routes.insert(route->name());
  if (semantic_cache.has_value()) {
    config->semantic_caches[route->name()] = std::move(*semantic_cache);
  }
  return status;
}

absl::Status ParseHealthCheck(const Json& json, const std::string& path, HealthCheckConfig* config) {
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "enabled") return ReadBool(value, key_path, &config->enabled);
    if (key == "interval_ms") return ReadMillis(value, key_path, &config->interval);
    if (key == "timeout_ms") return ReadMillis(value, key_path, &config->timeout);
    if (key == "unhealthy_threshold") return ReadInt(value, key_path, 1, &config->unhealthy_threshold);
    if (key == "healthy_threshold") return ReadInt(value, key_path, 1, &config->healthy_threshold);
    return Unknown();
  });
}

absl::Status ParseServices(const Json& json, const std::string& path,
                           std::map<std::string, std::vector<std::string>>* services) {
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    const ServiceInfo* service = FindService(key);
    if (service == nullptr || !service->forwardable) {
      return Error(key_path, absl::StrCat("not a service that can be forwarded (want one of ",
                                          absl::StrJoin(ForwardableServiceNames(), ", "), ")"));
    }
    std::vector<std::string>& addresses = (*services)[key];
    if (value.is_string()) {
      addresses = {value.get<std::string>()};
    } else {
      absl::Status status = ReadStrings(value, key_path, &addresses);
      if (!status.ok()) return Error(key_path, "must be \"host:port\" or an array of them");
    }
    if (addresses.empty()) return Error(key_path, "names no address");
    for (const std::string& address : addresses) {
      if (address.find(':') == std::string::npos || absl::StartsWith(address, "http")) {
        return Error(key_path, absl::StrCat("want \"host:port\", got \"", address, "\""));
      }
    }
    return absl::OkStatus();
  });
}

absl::Status ParseLimits(const Json& json, const std::string& path, TenantLimits* limits) {
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "requests_per_minute") {
      return ReadNumber(value, key_path, 0, &limits->requests_per_minute);
    }
    if (key == "tokens_per_minute") return ReadNumber(value, key_path, 0, &limits->tokens_per_minute);
    if (key == "budget_micros") return ReadInt(value, key_path, 0, &limits->budget_micros);
    if (key == "budget_period_seconds") {
      return ReadSeconds(value, key_path, &limits->budget_period);
    }
    return Unknown();
  });
}

absl::Status ParseGuardrails(const Json& json, const std::string& path, GuardrailConfig* config) {
  using A = GuardrailAction;
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "input_pii") {
      return ParseAction(value, key_path, {A::kOff, A::kFlag, A::kMask, A::kBlock},
                         &config->input_pii);
    }
    if (key == "output_pii") {
      return ParseAction(value, key_path, {A::kOff, A::kFlag, A::kMask}, &config->output_pii);
    }
    if (key == "pii_types") {
      std::vector<std::string> names;
      absl::Status status = ReadStrings(value, key_path, &names);
      if (!status.ok()) return status;
      config->pii_types.clear();
      for (size_t i = 0; i < names.size(); ++i) {
        PiiType type;
        status = ParsePiiType(names[i], absl::StrCat(key_path, "[", i, "]"), &type);
        if (!status.ok()) return status;
        config->pii_types.insert(type);
      }
      return absl::OkStatus();
    }
    if (key == "blocked_terms") return ReadStrings(value, key_path, &config->blocked_terms);
    if (key == "blocked_terms_action") {
      return ParseAction(value, key_path, {A::kFlag, A::kBlock}, &config->blocked_terms_action);
    }
    if (key == "prompt_injection") {
      return ParseAction(value, key_path, {A::kOff, A::kFlag, A::kBlock},
                         &config->prompt_injection);
    }
    if (key == "injection_similarity") {
      KnownAttackOptions& options = config->injection_similarity.emplace();
      return ForEachKey(value, key_path, [&](const std::string& field, const Json& field_value,
                                             const std::string& field_path) {
        if (field == "threshold") return ReadNumber(field_value, field_path, 0, &options.threshold);
        if (field == "attacks") return ReadStrings(field_value, field_path, &options.attacks);
        if (field == "embedding_model") {
          return ReadString(field_value, field_path, &options.embedding_model);
        }
        return Unknown();
      });
    }
    return Unknown();
  });
}

absl::Status ParseCircuitBreaker(const Json& json, const std::string& path,
                                 CircuitBreakerOptions* options) {
  return ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                    const std::string& key_path) {
    if (key == "window_seconds") return ReadSeconds(value, key_path, &options->window);
    if (key == "window_buckets") return ReadInt(value, key_path, 1, &options->window_buckets);
    if (key == "failure_rate_threshold") {
      absl::Status status = ReadNumber(value, key_path, 0, &options->failure_rate_threshold);
      if (status.ok() && options->failure_rate_threshold > 1) {
        return Error(key_path, "must be in [0, 1]");
      }
      return status;
    }
    if (key == "minimum_calls") return ReadInt(value, key_path, 1, &options->minimum_calls);
    if (key == "open_seconds") return ReadSeconds(value, key_path, &options->open_duration);
    if (key == "half_open_probes") return ReadInt(value, key_path, 1, &options->half_open_probes);
    return Unknown();
  });
}

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != ':' && c != '/') {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* BackendKindName(BackendKind kind) {
  switch (kind) {
    case BackendKind::kLocal:
      return "local";
    case BackendKind::kGrpc:
      return "grpc";
    case BackendKind::kOpenAi:
      return "openai";
  }
  return "unknown";
}

const char* GuardrailActionName(GuardrailAction action) {
  switch (action) {
    case GuardrailAction::kOff:
      return "off";
    case GuardrailAction::kFlag:
      return "flag";
    case GuardrailAction::kMask:
      return "mask";
    case GuardrailAction::kBlock:
      return "block";
  }
  return "unknown";
}

RouterConfig DefaultRouterConfig() {
  RouterConfig config;
  BackendConfig local;
  local.name = "local";
  local.kind = BackendKind::kLocal;
  local.max_retries = 0;
  config.backends.push_back(local);
  return config;
}

absl::StatusOr<RouterConfig> ParseRouterConfig(const Json& json) {
  RouterConfig config;
  const std::string path = "router";
  absl::Status status = ForEachKey(json, path, [&](const std::string& key, const Json& value,
                                                   const std::string& key_path) {
    if (key == "enabled") return ReadBool(value, key_path, &config.enabled);
    if (key == "backends") {
      if (!value.is_array()) return Error(key_path, "must be an array of backends");
      for (size_t i = 0; i < value.size(); ++i) {
        BackendConfig backend;
        absl::Status parsed = ParseBackend(value[i], absl::StrCat(key_path, "[", i, "]"), &backend);
        if (!parsed.ok()) return parsed;
        config.backends.push_back(std::move(backend));
      }
      return absl::OkStatus();
    }
    if (key == "routes") {
      if (!value.is_array()) return Error(key_path, "must be an array of routes");
      for (size_t i = 0; i < value.size(); ++i) {
        Route route;
        absl::Status parsed =
            ParseRoute(value[i], absl::StrCat(key_path, "[", i, "]"), &route, &config);
        if (!parsed.ok()) return parsed;
        config.routes.push_back(std::move(route));
      }
      return absl::OkStatus();
    }
    if (key == "default_route") return ReadString(value, key_path, &config.default_route);
    if (key == "auth") {
      std::string mode;
      absl::Status read = ReadString(value, key_path, &mode);
      if (!read.ok()) return read;
      if (mode == "auto") {
        config.auth = AuthMode::kAuto;
      } else if (mode == "required") {
        config.auth = AuthMode::kRequired;
      } else if (mode == "off") {
        config.auth = AuthMode::kOff;
      } else {
        return Error(key_path, absl::StrCat("want auto, required or off, got \"", mode, "\""));
      }
      return absl::OkStatus();
    }
    if (key == "limits") {
      return ForEachKey(value, key_path, [&](const std::string& limits_key, const Json& limits,
                                             const std::string& limits_path) {
        if (limits_key == "default") return ParseLimits(limits, limits_path, &config.default_limits);
        if (limits_key == "tenants") {
          return ForEachKey(limits, limits_path, [&](const std::string& tenant, const Json& entry,
                                                     const std::string& tenant_path) {
            return ParseLimits(entry, tenant_path, &config.tenant_limits[tenant]);
          });
        }
        return Unknown();
      });
    }
    if (key == "cache") {
      return ForEachKey(value, key_path, [&](const std::string& cache_key, const Json& item,
                                             const std::string& item_path) {
        if (cache_key == "enabled") return ReadBool(item, item_path, &config.cache.enabled);
        if (cache_key == "max_bytes") return ReadInt(item, item_path, 0, &config.cache.max_bytes);
        if (cache_key == "ttl_seconds") return ReadSeconds(item, item_path, &config.cache.ttl);
        return Unknown();
      });
    }
    if (key == "guardrails") return ParseGuardrails(value, key_path, &config.guardrails);
    if (key == "circuit_breaker") {
      return ParseCircuitBreaker(value, key_path, &config.circuit_breaker);
    }
    if (key == "max_shadow_in_flight") {
      return ReadInt(value, key_path, 0, &config.max_shadow_in_flight);
    }
    if (key == "services") return ParseServices(value, key_path, &config.services);
    if (key == "health_check") return ParseHealthCheck(value, key_path, &config.health_check);
    if (key == "canary_evaluate_ms") {
      return ReadMillis(value, key_path, &config.canary_evaluate_every);
    }
    return Unknown();
  });
  if (!status.ok()) return status;
  bool has_local = false;
  for (const BackendConfig& backend : config.backends) has_local |= backend.kind == BackendKind::kLocal;
  if (!has_local) {
    config.backends.insert(config.backends.begin(), DefaultRouterConfig().backends.front());
  }
  status = ValidateRouterConfig(config);
  if (!status.ok()) return status;
  return config;
}

absl::Status ValidateRouterConfig(const RouterConfig& config) {
  std::set<std::string> backends;
  bool has_local = false;
  for (size_t i = 0; i < config.backends.size(); ++i) {
    const BackendConfig& backend = config.backends[i];
    const std::string path = absl::StrCat("router.backends[", i, "]");
    if (!ValidName(backend.name)) {
      return Error(path, absl::StrCat("name \"", backend.name,
                                      "\" must be 1-128 characters of letters, digits and ._-:/"));
    }
    if (!backends.insert(backend.name).second) {
      return Error(path, absl::StrCat("backend \"", backend.name, "\" is declared twice"));
    }
    switch (backend.kind) {
      case BackendKind::kLocal:
        has_local = true;
        if (!backend.address.empty()) {
          return Error(path, "a local backend has no address (it is this process's engine)");
        }
        break;
      case BackendKind::kGrpc:
        if (backend.address.empty() || backend.address.find(':') == std::string::npos ||
            absl::StartsWith(backend.address, "http")) {
          return Error(path, absl::StrCat("a grpc backend needs \"address\": \"host:port\", got \"",
                                          backend.address, "\""));
        }
        break;
      case BackendKind::kOpenAi:
        if (!absl::StartsWith(backend.address, "http://") &&
            !absl::StartsWith(backend.address, "https://")) {
          return Error(path, absl::StrCat("an openai backend needs \"address\": a base URL such as "
                                          "\"http://127.0.0.1:8000/v1\", got \"",
                                          backend.address, "\""));
        }
        break;
    }
    if (backend.timeout <= absl::ZeroDuration()) return Error(path, "timeout_seconds must be > 0");
  }
  if (!has_local) return absl::InvalidArgumentError("router.backends: no local backend");

  std::set<std::string> routes;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const Route& route = config.routes[i];
    const std::string path = absl::StrCat("router.routes[", i, "]");
    if (!ValidName(route.name())) {
      return Error(path, absl::StrCat("name \"", route.name(),
                                      "\" must be 1-128 characters of letters, digits and ._-:/"));
    }
    if (!routes.insert(route.name()).second) {
      return Error(path, absl::StrCat("route \"", route.name(), "\" is declared twice"));
    }
    for (int t = 0; t < route.targets_size(); ++t) {
      if (!backends.count(route.targets(t).backend())) {
        return Error(absl::StrCat(path, ".targets[", t, "]"),
                     absl::StrCat("unknown backend \"", route.targets(t).backend(), "\""));
      }
    }
    for (int f = 0; f < route.fallbacks_size(); ++f) {
      if (!backends.count(route.fallbacks(f))) {
        return Error(absl::StrCat(path, ".fallbacks[", f, "]"),
                     absl::StrCat("unknown backend \"", route.fallbacks(f), "\""));
      }
    }
    auto policy = RoutingPolicy::Create(route);
    if (!policy.ok()) return Error(path, policy.status().message());
  }
  for (const auto& [route_name, canary] : config.canaries) {
    const std::string path = absl::StrCat("router.routes[\"", route_name, "\"].canary");
    const Route* route = nullptr;
    for (const Route& candidate : config.routes) {
      if (candidate.name() == route_name) route = &candidate;
    }
    if (route == nullptr) return Error(path, "belongs to no route");
    bool canary_found = false, baseline_found = canary.baseline_backend.empty();
    int others = 0;
    for (const RouteTarget& target : route->targets()) {
      if (target.shadow()) continue;
      if (target.backend() == canary.canary_backend) {
        canary_found = true;
      } else {
        ++others;
      }
      baseline_found |= target.backend() == canary.baseline_backend;
    }
    if (!canary_found) {
      return Error(path, absl::StrCat("backend \"", canary.canary_backend,
                                      "\" is not a (non-shadow) target of the route"));
    }
    if (others == 0) return Error(path, "the route needs a baseline target besides the canary");
    if (!baseline_found || canary.baseline_backend == canary.canary_backend) {
      return Error(path, absl::StrCat("baseline \"", canary.baseline_backend,
                                      "\" is not another target of the route"));
    }
    if (canary.steps.empty()) return Error(path, "steps must not be empty");
  }
  for (const auto& [route_name, intent] : config.intents) {
    const std::string path = absl::StrCat("router.routes[\"", route_name, "\"].intent");
    if (!routes.count(route_name)) return Error(path, "belongs to no route");
    absl::Status valid = ValidateIntentOptions(intent, path);
    if (!valid.ok()) return valid;
    std::vector<std::pair<std::string, std::string>> named = {{".default", intent.default_backend}};
    for (const auto& [label, backend] : intent.class_backends) {
      named.emplace_back(absl::StrCat(".classes.", label), backend);
    }
    for (const auto& [where, backend] : named) {
      if (!backends.count(backend)) {
        return Error(path + where, absl::StrCat("unknown backend \"", backend, "\""));
      }
    }
  }
  for (const auto& [route_name, options] : config.semantic_caches) {
    const std::string path = absl::StrCat("router.routes[\"", route_name, "\"].semantic_cache");
    if (!routes.count(route_name)) return Error(path, "belongs to no route");
    absl::Status valid = ValidateSemanticCacheOptions(options, path);
    if (!valid.ok()) return valid;
  }
  for (const std::string& route_name : config.cheapest_routes) {
    if (!routes.count(route_name)) {
      return Error(absl::StrCat("router.routes[\"", route_name, "\"].policy"), "belongs to no route");
    }
  }
  if (config.health_check.interval <= absl::ZeroDuration() ||
      config.health_check.timeout <= absl::ZeroDuration()) {
    return Error("router.health_check", "interval_ms and timeout_ms must be > 0");
  }
  if (!config.default_route.empty() && !routes.count(config.default_route)) {
    return Error("router.default_route",
                 absl::StrCat("unknown route \"", config.default_route, "\""));
  }
  if (config.cache.max_bytes < 0) return Error("router.cache.max_bytes", "must be >= 0");
  if (config.circuit_breaker.window <= absl::ZeroDuration()) {
    return Error("router.circuit_breaker.window_seconds", "must be > 0");
  }
  if (config.guardrails.blocked_terms_action != GuardrailAction::kBlock &&
      config.guardrails.blocked_terms_action != GuardrailAction::kFlag) {
    return Error("router.guardrails.blocked_terms_action", "want block or flag");
  }
  for (const std::string& term : config.guardrails.blocked_terms) {
    if (absl::StripAsciiWhitespace(term).empty()) {
      return Error("router.guardrails.blocked_terms", "terms must not be empty");
    }
  }
  if (config.guardrails.injection_similarity.has_value()) {
    const std::string path = "router.guardrails.injection_similarity";
    if (config.guardrails.prompt_injection == GuardrailAction::kOff) {
      return Error(path, "needs prompt_injection set to flag or block (its action)");
    }
    absl::Status valid = ValidateKnownAttackOptions(*config.guardrails.injection_similarity, path);
    if (!valid.ok()) return valid;
  }
  return absl::OkStatus();
}

const BackendConfig& LocalBackend(const RouterConfig& config) {
  for (const BackendConfig& backend : config.backends) {
    if (backend.kind == BackendKind::kLocal) return backend;
  }
  // ValidateRouterConfig guarantees one; the default config has one too.
  static const BackendConfig* fallback = new BackendConfig(DefaultRouterConfig().backends.front());
  return *fallback;
}

}  // namespace tessera::gateway
