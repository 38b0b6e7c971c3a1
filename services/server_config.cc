#include "services/server_config.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/service_catalog.h"

namespace tessera::services {
namespace {

using Json = nlohmann::json;

template <typename T>
absl::Status Read(const Json& json, const std::string& key, T* out) {
  try {
    *out = json.get<T>();
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config key \"", key, "\": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerConfig> ParseServerConfig(const std::string& json_text,
                                               const ServerConfig& base) {
  Json json = Json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (json.is_discarded()) return absl::InvalidArgumentError("config is not valid JSON");
  if (!json.is_object()) return absl::InvalidArgumentError("config must be a JSON object");
  ServerConfig config = base;
  for (const auto& [key, value] : json.items()) {
    absl::Status status;
    if (key == "host") status = Read(value, key, &config.host);
    else if (key == "port") status = Read(value, key, &config.port);
    else if (key == "http_port") status = Read(value, key, &config.http_port);
    else if (key == "data_dir") status = Read(value, key, &config.data_dir);
    else if (key == "log_level") status = Read(value, key, &config.log_level);
    else if (key == "max_document_bytes") status = Read(value, key, &config.max_document_bytes);
    else if (key == "max_message_bytes") status = Read(value, key, &config.max_message_bytes);
    else if (key == "max_field_bytes") status = Read(value, key, &config.max_field_bytes);
    else if (key == "max_repeated_entries") status = Read(value, key, &config.max_repeated_entries);
    else if (key == "bm25_max_buffered_docs") status = Read(value, key, &config.bm25_max_buffered_docs);
    else if (key == "bm25_max_segments") status = Read(value, key, &config.bm25_max_segments);
    else if (key == "tls_cert_file") status = Read(value, key, &config.tls_cert_file);
    else if (key == "tls_key_file") status = Read(value, key, &config.tls_key_file);
    else if (key == "tls_client_ca_file") status = Read(value, key, &config.tls_client_ca_file);
    else if (key == "backend_tls_ca_file") status = Read(value, key, &config.backend_tls_ca_file);
    else if (key == "backend_tls_cert_file") status = Read(value, key, &config.backend_tls_cert_file);
    else if (key == "backend_tls_key_file") status = Read(value, key, &config.backend_tls_key_file);
    else if (key == "drain_seconds") status = Read(value, key, &config.drain_seconds);
    else if (key == "max_inflight_requests") status = Read(value, key, &config.max_inflight_requests);
    else if (key == "models_dir") status = Read(value, key, &config.models_dir);
    else if (key == "embedder_model") status = Read(value, key, &config.embedder_model);
    else if (key == "reranker_model") status = Read(value, key, &config.reranker_model);
    else if (key == "generator_model") status = Read(value, key, &config.generator_model);
    else if (key == "generator_batching") status = Read(value, key, &config.generator_batching);
    else if (key == "generator_device") status = Read(value, key, &config.generator_device);
    else if (key == "kv_cache_mb") status = Read(value, key, &config.kv_cache_mb);
    else if (key == "kv_block_size") status = Read(value, key, &config.kv_block_size);
    else if (key == "max_batch_tokens") status = Read(value, key, &config.max_batch_tokens);
    else if (key == "max_running_sequences") status = Read(value, key, &config.max_running_sequences);
    else if (key == "speculative_tokens") status = Read(value, key, &config.speculative_tokens);
    else if (key == "services") status = Read(value, key, &config.services);
    else if (key == "retrieval_shards") status = Read(value, key, &config.retrieval_shards);
    else if (key == "shard_timeout_ms") status = Read(value, key, &config.shard_timeout_ms);
    else if (key == "eval_dataset_roots") status = Read(value, key, &config.eval_dataset_roots);
    else if (key == "online_eval") {
      auto online = eval::ParseOnlineEvalConfig(value);
      if (online.ok()) config.online_eval = *std::move(online);
      status = online.status();
    }
    else if (key == "router") {
      auto router = gateway::ParseRouterConfig(value);
      if (router.ok()) config.router = *std::move(router);
      status = router.status();
    }
    else return absl::InvalidArgumentError(absl::StrCat("unknown config key \"", key, "\""));
    if (!status.ok()) return status;
  }
  absl::Status services = CheckServiceNames(config.services, "services");
  if (!services.ok()) return services;
  if (config.bm25_max_buffered_docs < 1 || config.bm25_max_segments < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bm25_max_buffered_docs (", config.bm25_max_buffered_docs, ") and bm25_max_segments (",
        config.bm25_max_segments, ") must be positive"));
  }
  if (config.max_inflight_requests < 0) {
    return absl::InvalidArgumentError(absl::StrCat("max_inflight_requests ", config.max_inflight_requests,
                                                   " is negative (0 means no limit)"));
  }
  if (config.port < 0 || config.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", config.port, " is out of range"));
  }
  if (config.generator_device != "auto" && config.generator_device != "cpu" &&
      config.generator_device != "cuda") {
    return absl::InvalidArgumentError(absl::StrCat(
        "generator_device \"", config.generator_device, "\" is not auto, cpu or cuda"));
  }
  if (config.kv_cache_mb < 1 || config.kv_block_size < 1 || config.kv_block_size > 1024 ||
      config.max_batch_tokens < 1 || config.max_running_sequences < 1 ||
      config.speculative_tokens < 0 || config.speculative_tokens > 32) {
    return absl::InvalidArgumentError(
        "kv_cache_mb, max_batch_tokens and max_running_sequences must be positive, kv_block_size "
        "in [1, 1024] and speculative_tokens in [0, 32]");
  }
  if (config.http_port < 0 || config.http_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("http_port ", config.http_port, " is out of range"));
  }
  return config;
}

absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto config = ParseServerConfig(text.str(), ServerConfig());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace tessera::services
