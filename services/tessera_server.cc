#include "services/tessera_server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/agent_service.h"
#include "agents/run_manager.h"
#include "agents/tools/calculator.h"
#include "engine/generation_service.h"
#include "ingest/document_preparer.h"
#include "ingest/document_store.h"
#include "ingest/index_feed.h"
#include "ingest/ingest_service.h"
#include "retrieval/index_registry.h"
#include "retrieval/retrieval_service.h"
#include "common/metrics.h"
#include "services/index_retriever.h"
#include "services/local_chat_model.h"
#include "services/metrics_interceptor.h"
#include "services/model_loader.h"
#include "services/openai_http.h"
#include "services/status_interceptor.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tessera/gateway/v1/gateway.grpc.pb.h"
#include "tessera/generation/v1/generation.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::services {

// Everything the gRPC services hold, owned by the server and destroyed after it.
struct TesseraServer::Services {
  ~Services() {
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
  // Contracts whose implementations land in later issues: registered so that
  // reflection lists them and calls get a clear UNIMPLEMENTED.
  eval::v1::EvalService::Service eval;
  gateway::v1::GatewayService::Service gateway;
};

std::vector<std::string> TesseraServer::ServiceNames() {
  return {
      ingest::v1::IngestService::service_full_name(),
      retrieval::v1::RetrievalService::service_full_name(),
      generation::v1::GenerationService::service_full_name(),
      agents::v1::AgentService::service_full_name(),
      eval::v1::EvalService::service_full_name(),
      gateway::v1::GatewayService::service_full_name(),
  };
}

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
  services.indexes = std::make_unique<retrieval::IndexRegistry>(
      retrieval::CollectionIndexOptions(), services.models.embedder.get(),
      services.models.reranker.get());
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
  auto runs = agents::RunManager::Open(std::move(agent_options));
  if (!runs.ok()) return runs.status();
  services.runs = std::move(*runs);
  auto recovered = services.runs->RecoverRuns();
  if (!recovered.ok()) return recovered.status();
  if (!recovered->empty()) spdlog::info("resumed {} agent runs after a restart", recovered->size());
  services.agents = std::make_unique<agents::AgentServiceImpl>(services.runs.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  const std::string address = absl::StrCat(
      config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host, ":",
      config.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &server->port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  builder.RegisterService(services.ingest.get());
  builder.RegisterService(services.retrieval.get());
  builder.RegisterService(services.generation.get());
  builder.RegisterService(services.agents.get());
  builder.RegisterService(&services.eval);
  builder.RegisterService(&services.gateway);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<StatusMessageInterceptorFactory>());
  // After the status rewrite, so metrics count the codes callers actually see.
  interceptors.push_back(std::make_unique<MetricsInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const std::string& name : ServiceNames()) health->SetServingStatus(name, true);
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
    MountOpenAiRoutes(server->http_.get(),
                      grpc::CreateChannel(absl::StrCat(own_host, ":", server->port_),
                                          grpc::InsecureChannelCredentials()));
    absl::Status status = server->http_->Start(config.host, config.http_port);
    if (!status.ok()) return status;
    spdlog::info("HTTP /healthz, /metrics and the OpenAI-compatible /v1 API on {}:{}",
                 config.host, server->http_->port());
  }
  spdlog::info("tessera serving {} on {}:{} (data_dir {})", absl::StrJoin(ServiceNames(), ", "),
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
