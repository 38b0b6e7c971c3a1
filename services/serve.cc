#include "services/serve.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/service_catalog.h"
#include "retrieval/sharding/shard_set.h"
#include "services/tessera_server.h"

// -1 / "" mean "not given": the config file's value (or the default) stays.
ABSL_FLAG(std::string, config, "", "JSON config file (keys: see services/server_config.h)");
ABSL_FLAG(int, port, -1, "gRPC port (default 50051; 0 picks a free port)");
ABSL_FLAG(std::string, host, "", "address to bind (default 0.0.0.0)");
ABSL_FLAG(int, http_port, -1, "HTTP port for /healthz, /metrics and the OpenAI-compatible /v1 API (0 = none)");
ABSL_FLAG(std::string, data_dir, "", "data directory (default ./tessera-data)");
ABSL_FLAG(std::string, log_level, "", "trace, debug, info, warn or error (default info)");
ABSL_FLAG(std::string, port_file, "", "write the bound gRPC port to this file once serving");
ABSL_FLAG(int64_t, max_document_bytes, -1, "largest accepted document in bytes (default 64 MiB)");
ABSL_FLAG(std::string, models_dir, "", "directory of model directories (e.g. ../shared/models)");
ABSL_FLAG(std::string, embedder_model, "",
          "embedding model: a directory, or a name inside --models_dir (default: "
          "all-MiniLM-L6-v2 there, when its weights are present)");
ABSL_FLAG(std::string, reranker_model, "", "cross-encoder: a directory, or a name inside --models_dir");
ABSL_FLAG(std::string, generator_model, "",
          "generator: a GGUF file or a Hugging Face directory, or a name inside --models_dir");
ABSL_FLAG(int, drain_seconds, -1, "seconds to let in-flight calls finish on SIGTERM (default 20)");
ABSL_FLAG(std::vector<std::string>, services, {},
          "comma-separated services to serve: ingest, retrieval, generation, agents, eval, gateway "
          "(default: all, or the binary's own)");
ABSL_FLAG(std::vector<std::string>, retrieval_shards, {},
          "comma-separated retrieval shards, each [name=]host:port[|replica:port...]: ingest and "
          "retrieval are then forwarded to them");
ABSL_FLAG(std::vector<std::string>, eval_dataset_roots, {},
          "comma-separated directories whose files evaluation jobs may read as datasets "
          "(default: DATA_DIR/datasets)");
ABSL_FLAG(bool, check_config, false,
          "only check the configuration (--config and flags): print OK or the error, and exit");
ABSL_FLAG(int, shard_timeout_ms, -1,
          "deadline of a sharded search without timeout_ms (default 2000)");

namespace tessera::services {

absl::StatusOr<ServerConfig> ServerConfigFromFlags(
    const std::vector<std::string>& default_services) {
  ServerConfig config;
  if (!absl::GetFlag(FLAGS_config).empty()) {
    auto loaded = LoadServerConfig(absl::GetFlag(FLAGS_config));
    if (!loaded.ok()) return loaded.status();
    config = *loaded;
  }
  if (config.services.empty()) config.services = default_services;
  if (!absl::GetFlag(FLAGS_services).empty()) {
    config.services = absl::GetFlag(FLAGS_services);
    absl::Status known = CheckServiceNames(config.services, "--services");
    if (!known.ok()) return known;
  }
  if (!absl::GetFlag(FLAGS_retrieval_shards).empty()) {
    config.retrieval_shards = absl::GetFlag(FLAGS_retrieval_shards);
  }
  if (!absl::GetFlag(FLAGS_eval_dataset_roots).empty()) {
    config.eval_dataset_roots = absl::GetFlag(FLAGS_eval_dataset_roots);
  }
  if (absl::GetFlag(FLAGS_shard_timeout_ms) >= 0) {
    config.shard_timeout_ms = absl::GetFlag(FLAGS_shard_timeout_ms);
  }
  if (absl::GetFlag(FLAGS_port) >= 0) config.port = absl::GetFlag(FLAGS_port);
  if (!absl::GetFlag(FLAGS_host).empty()) config.host = absl::GetFlag(FLAGS_host);
  if (absl::GetFlag(FLAGS_http_port) >= 0) config.http_port = absl::GetFlag(FLAGS_http_port);
  if (!absl::GetFlag(FLAGS_data_dir).empty()) config.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (!absl::GetFlag(FLAGS_log_level).empty()) config.log_level = absl::GetFlag(FLAGS_log_level);
  if (absl::GetFlag(FLAGS_max_document_bytes) >= 0) {
    config.max_document_bytes = absl::GetFlag(FLAGS_max_document_bytes);
  }
  if (!absl::GetFlag(FLAGS_models_dir).empty()) config.models_dir = absl::GetFlag(FLAGS_models_dir);
  if (!absl::GetFlag(FLAGS_embedder_model).empty()) {
    config.embedder_model = absl::GetFlag(FLAGS_embedder_model);
  }
  if (!absl::GetFlag(FLAGS_reranker_model).empty()) {
    config.reranker_model = absl::GetFlag(FLAGS_reranker_model);
  }
  if (!absl::GetFlag(FLAGS_generator_model).empty()) {
    config.generator_model = absl::GetFlag(FLAGS_generator_model);
  }
  if (absl::GetFlag(FLAGS_drain_seconds) >= 0) {
    config.drain_seconds = absl::GetFlag(FLAGS_drain_seconds);
  }
  if (config.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--port=", config.port, " is out of range"));
  }
  if (config.http_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_port=", config.http_port, " is out of range"));
  }
  return config;
}

int RunServe() { return RunServeWith({}); }

int RunServeWith(const std::vector<std::string>& default_services) {
  // Block the shutdown signals in every thread (gRPC's included, which inherit
  // the mask); this thread receives them synchronously with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = ServerConfigFromFlags(default_services);
  if (!config.ok()) {
    std::fprintf(stderr, "tessera serve: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_check_config)) {
    auto shards = retrieval::sharding::ParseShardSpecs(config->retrieval_shards);
    if (!shards.ok()) {
      std::fprintf(stderr, "tessera serve: %s\n", std::string(shards.status().message()).c_str());
      return 2;
    }
    std::printf("config OK\n");
    return 0;
  }
  InitLogging(config->log_level);
  auto server = TesseraServer::Start(*config);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().ToString());
    return 1;
  }
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    // Write then rename, so a reader never sees a half-written port.
    const std::string path = absl::GetFlag(FLAGS_port_file);
    const std::string temp = path + ".tmp";
    std::ofstream(temp) << (*server)->port() << "\n";
    std::rename(temp.c_str(), path.c_str());
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}, draining for up to {}s", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
               config->drain_seconds);
  (*server)->Shutdown(absl::Seconds(config->drain_seconds));
  (*server)->Wait();
  spdlog::info("stopped");
  return 0;
}

}  // namespace tessera::services
