// Configuration of the all-in-one server: a JSON file, then command-line flags on
// top (a flag given on the command line wins).
#ifndef TESSERA_SERVICES_SERVER_CONFIG_H_
#define TESSERA_SERVICES_SERVER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/online_evaluator.h"
#include "gateway/router_config.h"

namespace tessera::services {

struct ServerConfig {
  // Address to bind; "127.0.0.1" for loopback only.
  std::string host = "0.0.0.0";
  // gRPC port; 0 picks a free port (reported in logs and --port_file).
  int port = 50051;
  // HTTP port for the OpenAI-compatible API, /metrics and /healthz; 0 = off.
  int http_port = 0;
  // Directory for the SQLite database and the indexes (created if missing).
  std::string data_dir = "./tessera-data";
  std::string log_level = "info";
  // Largest accepted document (text or raw content), bytes.
  int64_t max_document_bytes = 64ll << 20;
  // Largest gRPC message, bytes.
  int64_t max_message_bytes = 96ll << 20;
  // Largest string or bytes field of any request (documents' text and content
  // have max_document_bytes), and most entries of any repeated field or map.
  int64_t max_field_bytes = 1ll << 20;
  int64_t max_repeated_entries = 100000;
  // BM25 segments of every collection: the in-memory buffer is frozen into an
  // immutable segment at this many documents, and more segments than
  // bm25_max_segments are merged into one (retrieval/bm25_index.h).
  int bm25_max_buffered_docs = 100000;
  int bm25_max_segments = 16;
  // TLS on the gRPC port (PEM files): a certificate chain and its key; with a
  // client CA too, every client must present a certificate it signed (mutual TLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // TLS on this server's outgoing channels to other Tessera processes (retrieval
  // shards, remote gRPC model backends, router.services): the CA their
  // certificates chain to, and this server's client certificate and key for
  // backends that require mutual TLS. All empty = plaintext.
  std::string backend_tls_ca_file;
  std::string backend_tls_cert_file;
  std::string backend_tls_key_file;
  // Calls (streams included) handled at once; more are refused at once with
  // RESOURCE_EXHAUSTED and a retry-after trailer instead of queueing. 0 = no limit.
  int max_inflight_requests = 256;
  // Seconds in-flight calls may take to finish after SIGTERM.
  int drain_seconds = 20;
  // Directory of model directories (e.g. ../shared/models); the roles below name
  // models inside it or give paths of their own.
  std::string models_dir;
  // Model paths (directories or files); empty = role not served.
  std::string embedder_model;
  std::string reranker_model;
  std::string generator_model;
  // Generation through the continuous-batching serving engine (engine/serving):
  // concurrent requests share each forward step. Off: one request at a time.
  bool generator_batching = true;
  std::string generator_device = "auto";  // "auto" (CUDA when present), "cpu", "cuda".
  int kv_cache_mb = 256;      // KV block pool (capped at what max_running_sequences need).
  int kv_block_size = 16;     // Token positions per KV block.
  int max_batch_tokens = 256; // Tokens per step, prefill chunks and decodes together.
  int max_running_sequences = 32;
  int speculative_tokens = 0; // n-gram prompt-lookup tokens proposed per step (0 = off).
  // The gRPC services this process serves, by short name: ingest, retrieval,
  // generation, agents, eval, gateway. Empty = all (the all-in-one server).
  std::vector<std::string> services;
  // Retrieval shards ("name=host:port|replica:port" or "host:port", one per
  // shard): when given, ingest and retrieval are forwarded to them (documents
  // spread by consistent hashing, searches fanned out and merged) instead of
  // being served from this process's store.
  std::vector<std::string> retrieval_shards;
  // Deadline of a sharded search without timeout_ms; shards that miss it make
  // the result partial.
  int shard_timeout_ms = 2000;
  // Directories whose files evaluation job specs received over gRPC may name as
  // datasets (jsonl_path, qrels_path); empty: <data_dir>/datasets only.
  std::vector<std::string> eval_dataset_roots;
  // The router in front of the services (key "router", see
  // gateway/router_config.h): model backends and routes, API keys, limits,
  // cache, guardrails. Default: the local engine only, keys once issued.
  gateway::RouterConfig router = gateway::DefaultRouterConfig();
  // Online evaluation of live routed traffic (key "online_eval", see
  // eval/online_evaluator.h): per route a sample rate and a judge; the scores
  // per model variant become metrics and the canary's quality signal.
  eval::OnlineEvalConfig online_eval;
};

// Reads a JSON config file; keys are the field names above. Unknown keys are an
// error (a typo should not silently fall back to a default).
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path);

// Parses JSON text (see LoadServerConfig) over `base`.
absl::StatusOr<ServerConfig> ParseServerConfig(const std::string& json_text,
                                               const ServerConfig& base);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_SERVER_CONFIG_H_
