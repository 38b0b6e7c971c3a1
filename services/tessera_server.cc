#include "services/tessera_server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/agent_service.h"
#include "agents/run_manager.h"
#include "agents/tools/calculator.h"
#include "agents/tools/search_tool.h"
#include "engine/generation_service.h"
#include "ingest/document_preparer.h"
#include "ingest/document_store.h"
#include "ingest/index_feed.h"
#include "ingest/ingest_service.h"
#include "retrieval/index_registry.h"
#include "retrieval/retrieval_service.h"
#include "retrieval/sharding/sharded_ingest_service.h"
#include "retrieval/sharding/sharded_retrieval_service.h"
#include "common/metrics.h"
#include "common/service_catalog.h"
#include "eval/eval_service.h"
#include "eval/graph_target.h"
#include "services/gateway_stack.h"
#include "services/index_retriever.h"
#include "services/local_chat_model.h"
#include "services/metrics_interceptor.h"
#include "services/model_loader.h"
#include "services/openai_http.h"
#include "services/inflight_limit.h"
#include "services/request_limits.h"
#include "services/status_interceptor.h"
#include "services/tls_credentials.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tessera/gateway/v1/gateway.grpc.pb.h"
#include "tessera/generation/v1/generation.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::services {

// Everything the gRPC services hold, owned by the server and destroyed after it.
struct TesseraServer::Services {
  ~Services() {
    // Running eval jobs and agent runs search through the feed's indexes and
    // may call models through the gateway's router: stop them first.
    eval.reset();
    agents.reset();
    runs.reset();
    if (feed != nullptr) feed->Stop();
  }
  LoadedModels models;
  std::unique_ptr<ingest::DocumentStore> store;
  std::unique_ptr<ingest::IndexFeed> feed;
  std::unique_ptr<retrieval::IndexRegistry> indexes;
  std::unique_ptr<ingest::IngestServiceImpl> ingest;
  std::unique_ptr<retrieval::RetrievalServiceImpl> retrieval;
  std::unique_ptr<engine::GenerationServiceImpl> generation;
  std::unique_ptr<agents::RunManager> runs;
  std::unique_ptr<agents::AgentServiceImpl> agents;
  // With retrieval_shards: ingest and retrieval forwarded to the shards.
  std::unique_ptr<retrieval::sharding::ShardSet> shards;
  std::unique_ptr<retrieval::sharding::ShardedIngestService> sharded_ingest;
  std::unique_ptr<retrieval::sharding::ShardedRetrievalService> sharded_retrieval;
  // Evaluation jobs (SQLite in data_dir/eval.db), judged by the agents' models.
  std::unique_ptr<eval::EvalServiceImpl> eval;
  // The router in front of the services; declared last so it goes first (its
  // in-process engine server and shadow workers use the services above).
  std::unique_ptr<GatewayStack> gateway;
};

absl::StatusOr<std::unique_ptr<TesseraServer>> TesseraServer::Start(const ServerConfig& config) {
  std::error_code error;
  std::filesystem::create_directories(config.data_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data_dir ", config.data_dir, ": ", error.message()));
  }
  auto server = std::unique_ptr<TesseraServer>(new TesseraServer());
  server->services_ = std::make_unique<Services>();
  Services& services = *server->services_;

  auto store = ingest::DocumentStore::Open(config.data_dir + "/tessera.db");
  if (!store.ok()) return store.status();
  services.store = std::move(*store);
  ingest::Limits limits;
  limits.max_document_bytes = config.max_document_bytes;

  // Search indexes are derived from the store: rebuilt from its log at start,
  // then kept current by the feed after every commit.
  services.feed = std::make_unique<ingest::IndexFeed>(services.store.get());
  auto models = LoadModels(config);
  if (!models.ok()) return models.status();
  services.models = std::move(*models);
  if (services.models.embedder != nullptr) {
    spdlog::info("embedder {} ({} dimensions)", services.models.embedder->name(),
                 services.models.embedder->dimension());
  } else {
    spdlog::info("{}", services.models.embedder_note);
  }
  if (services.models.reranker != nullptr) {
    spdlog::info("reranker {}", services.models.reranker->name());
  }
  if (services.models.generator != nullptr) {
    spdlog::info("generator {}", services.models.served.generator_name);
  }
  services.generation =
      std::make_unique<engine::GenerationServiceImpl>(services.models.served);
  retrieval::CollectionIndexOptions index_options;
  index_options.bm25.max_buffered_docs = static_cast<uint32_t>(config.bm25_max_buffered_docs);
  index_options.bm25.max_segments = static_cast<uint32_t>(config.bm25_max_segments);
  services.indexes = std::make_unique<retrieval::IndexRegistry>(
      index_options, services.models.embedder.get(), services.models.reranker.get());
  services.feed->Register(services.indexes.get());
  const auto rebuild_start = absl::Now();
  absl::Status rebuilt = services.feed->Rebuild([&] { services.indexes->Reset(); });
  if (!rebuilt.ok()) return rebuilt;
  spdlog::info("search indexes rebuilt from the ingest log in {:.2f}s",
               absl::ToDoubleSeconds(absl::Now() - rebuild_start));
  services.feed->Start();

  ingest::IndexFeed* feed = services.feed.get();
  services.ingest = std::make_unique<ingest::IngestServiceImpl>(
      services.store.get(), ingest::DocumentPreparer(limits), [feed] { feed->Notify(); });
  services.retrieval = std::make_unique<retrieval::RetrievalServiceImpl>(
      services.indexes.get(), services.store.get(), services.feed.get());

  // Agents: graphs, runs and checkpoints in their own SQLite file; runs are
  // driven in the background and those a crash interrupted are resumed.
  agents::RunManagerOptions agent_options;
  agent_options.database_path = config.data_dir + "/agents.db";
  agent_options.async = true;
  agent_options.retriever = std::make_shared<IndexRetriever>(services.indexes.get(), services.feed.get());
  if (services.models.generator != nullptr) {
    // LLM nodes naming no model (or the generator's name) run on the local one.
    auto local = std::make_shared<LocalChatModel>(services.models.generator.get());
    agent_options.models->SetDefault(local);
    agent_options.models->Register(services.models.served.generator_name, local);
  }
  absl::Status registered =
      agent_options.tools->Register(std::make_shared<agents::CalculatorTool>());
  if (!registered.ok()) return registered;
  // `search` runs in the calling run's tenant; "kb" is the collection the
  // example graphs use when a call names none.
  registered = agent_options.tools->Register(
      std::make_shared<agents::SearchTool>(agent_options.retriever, /*tenant=*/"", "kb"));
  if (!registered.ok()) return registered;
  eval::EvalServiceOptions eval_options;
  eval_options.data_dir = config.data_dir;
  eval_options.models = agent_options.models;
  eval_options.retriever = agent_options.retriever;
  eval_options.dataset_roots = config.eval_dataset_roots;
  // Online evaluation judges with the same models; agent_options is moved below.
  std::shared_ptr<agents::ModelRegistry> judge_models = agent_options.models;

  grpc::Service* ingest_service = services.ingest.get();
  retrieval::v1::RetrievalService::Service* retrieval_service = services.retrieval.get();
  // One set of credentials for every channel to another Tessera process.
  auto backend_credentials = MakeChannelCredentials(
      {config.backend_tls_ca_file, config.backend_tls_cert_file, config.backend_tls_key_file});
  if (!backend_credentials.ok()) return backend_credentials.status();
  if (!config.retrieval_shards.empty()) {
    auto specs = retrieval::sharding::ParseShardSpecs(config.retrieval_shards);
    if (!specs.ok()) return specs.status();
    retrieval::sharding::ShardSetOptions shard_options;
    shard_options.hint_path = config.data_dir + "/shard_hints.db";
    shard_options.max_message_bytes = config.max_message_bytes;
    shard_options.credentials = *backend_credentials;
    auto shards = retrieval::sharding::ShardSet::Create(std::move(*specs), shard_options);
    if (!shards.ok()) return shards.status();
    services.shards = std::move(*shards);
    services.sharded_ingest =
        std::make_unique<retrieval::sharding::ShardedIngestService>(services.shards.get());
    services.sharded_retrieval = std::make_unique<retrieval::sharding::ShardedRetrievalService>(
        services.shards.get(), absl::Milliseconds(config.shard_timeout_ms));
    ingest_service = services.sharded_ingest.get();
    retrieval_service = services.sharded_retrieval.get();
    spdlog::info("ingest and retrieval forwarded to {} retrieval shards", services.shards->size());
  }

  // Authentication, limits, caching, guardrails and the model router in front
  // of the services. Cached searches are keyed by the ingest log head, which
  // only this process's store has (not the shards').
  std::function<absl::StatusOr<int64_t>()> data_version;
  if (config.retrieval_shards.empty()) {
    ingest::DocumentStore* store = services.store.get();
    data_version = [store] { return store->LogHead(); };
  }
  auto gateway_stack = GatewayStack::Create(config, services.generation.get(), retrieval_service,
                                            std::move(data_version), judge_models,
                                            *backend_credentials);
  if (!gateway_stack.ok()) return gateway_stack.status();
  services.gateway = std::move(*gateway_stack);
  // Opened after the gateway, which registers its router's routes as models
  // (see RegisterRoutes), so runs and jobs resumed after a restart find them.
  auto runs = agents::RunManager::Open(std::move(agent_options));
  if (!runs.ok()) return runs.status();
  services.runs = std::move(*runs);
  auto recovered = services.runs->RecoverRuns();
  if (!recovered.ok()) return recovered.status();
  if (!recovered->empty()) spdlog::info("resumed {} agent runs after a restart", recovered->size());
  services.agents = std::make_unique<agents::AgentServiceImpl>(services.runs.get());
  // Agent-graph targets of evaluation jobs run on this process's agents.
  eval_options.graphs = std::make_shared<eval::RunManagerGraphRunner>(services.runs.get());
  auto eval_service = eval::EvalServiceImpl::Open(eval_options);
  if (!eval_service.ok()) return eval_service.status();
  services.eval = std::move(*eval_service);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  auto credentials = MakeServerCredentials(config);
  if (!credentials.ok()) return credentials.status();
  grpc::ServerBuilder builder;
  const std::string address = absl::StrCat(
      config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host, ":",
      config.port);
  builder.AddListeningPort(address, *credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  LimitInflightRequests(config.max_inflight_requests, &builder);
  // The configured services only (all by default), in catalog order.
  const std::map<std::string, grpc::Service*> local_services = {
      {"ingest", ingest_service},
      {"retrieval", services.gateway->retrieval()},
      {"generation", services.gateway->generation()},
      {"agents", services.agents.get()},
      {"eval", services.eval.get()},
      {"gateway", services.gateway->gateway()}};
  for (const ServiceInfo& service : TesseraServices()) {
    const std::string& name = service.name;
    // A service the router config sends to other processes is forwarded there
    // (and served here even when `services` does not list it).
    grpc::Service* remote = services.gateway->Remote(name);
    if (remote == nullptr && !config.services.empty() &&
        std::find(config.services.begin(), config.services.end(), name) == config.services.end()) {
      continue;
    }
    auto local = local_services.find(name);
    if (remote == nullptr && local == local_services.end()) {
      return absl::InternalError(absl::StrCat("no implementation of service \"", name, "\""));
    }
    // Behind the router's gate (authentication, limits, usage) when it is on.
    auto front =
        services.gateway->Public(remote != nullptr ? remote : local->second, service.full_name);
    if (!front.ok()) return front.status();
    builder.RegisterService(*front);
    server->served_.push_back(service.full_name);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // First, so an oversize request reaches no handler (and no other interceptor).
  RequestLimits limits_per_field;
  limits_per_field.max_field_bytes = config.max_field_bytes;
  limits_per_field.max_document_bytes = config.max_document_bytes;
  limits_per_field.max_repeated_entries = config.max_repeated_entries;
  for (const ServiceInfo& service : TesseraServices()) {
    if (services.gateway->Remote(service.name) != nullptr) {
      limits_per_field.unchecked_services.push_back(service.full_name);
    }
  }
  interceptors.push_back(std::make_unique<RequestLimitsInterceptorFactory>(limits_per_field));
  // Authenticates callers and sets their tenant; null when the router is off.
  if (auto gate = services.gateway->NewInterceptorFactory()) interceptors.push_back(std::move(gate));
  interceptors.push_back(std::make_unique<StatusMessageInterceptorFactory>());
  // Names the limit in gRPC's own refusal when no thread is free.
  interceptors.push_back(std::make_unique<InflightLimitInterceptorFactory>(config.max_inflight_requests));
  // After the status rewrite, so metrics count the codes callers actually see.
  interceptors.push_back(std::make_unique<MetricsInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const std::string& name : server->served_) health->SetServingStatus(name, true);
  server->serving_ = true;

  if (config.http_port != 0) {
    server->http_ = std::make_unique<HttpServer>();
    TesseraServer* self = server.get();
    server->http_->Route("GET", "/healthz", [self](const HttpRequest&) {
      HttpResponse response;
      response.status = self->serving_ ? 200 : 503;
      response.body = self->serving_ ? "SERVING\n" : "NOT_SERVING\n";
      return response;
    });
    server->http_->Route("GET", "/metrics", [](const HttpRequest&) {
      HttpResponse response;
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      response.body = MetricsRegistry::Global().RenderPrometheus();
      return response;
    });
    // The OpenAI-compatible API calls this server's own generation service over
    // loopback gRPC, so HTTP and gRPC callers share one code path.
    const bool wildcard = config.host == "0.0.0.0" || config.host == "::" || config.host.empty();
    const std::string own_host =
        wildcard ? "127.0.0.1"
                 : (config.host.find(':') != std::string::npos ? "[" + config.host + "]"
                                                               : config.host);
    // Under TLS the server holds no client certificate of its own, so it calls
    // itself in-process (same services and interceptors, no transport).
    const bool tls = !config.tls_cert_file.empty();
    MountOpenAiRoutes(server->http_.get(),
                      tls ? server->server_->InProcessChannel(grpc::ChannelArguments())
                          : grpc::CreateChannel(absl::StrCat(own_host, ":", server->port_),
                                                grpc::InsecureChannelCredentials()));
    absl::Status status = server->http_->Start(config.host, config.http_port);
    if (!status.ok()) return status;
    spdlog::info("HTTP /healthz, /metrics and the OpenAI-compatible /v1 API on {}:{}",
                 config.host, server->http_->port());
  }
  spdlog::info("tessera serving {} on {}:{} (data_dir {})", absl::StrJoin(server->served_, ", "),
               config.host, server->port_, config.data_dir);
  return server;
}

void TesseraServer::Shutdown(absl::Duration drain) {
  if (server_ == nullptr) return;
  // Tell health checkers first so load balancers stop sending new calls.
  serving_ = false;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + drain));
  if (http_ != nullptr) http_->Shutdown();
}

void TesseraServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

TesseraServer::~TesseraServer() {
  if (http_ != nullptr) http_->Shutdown();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
    server_->Wait();
    server_.reset();
  }
}

}  // namespace tessera::services
