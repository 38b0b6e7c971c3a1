// Security over the real server binary and loopback gRPC:
//  - tenant isolation: with API keys for tenants alpha and beta, beta never
//    sees alpha's data through any RPC that reads it (ingest Get/List, chunks,
//    retrieval Search/BatchSearch/stats, agent graphs, runs, checkpoints and
//    streams, eval jobs, results, review items and calibration, usage);
//  - secrets never reach the log: API keys (valid and invalid, as bearer
//    tokens and x-api-key, over gRPC and the HTTP API) and the contents of a
//    TLS key file, with the server logging at debug level.
#include <curl/curl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/api_keys.h"
#include "gtest/gtest.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tessera/gateway/v1/gateway.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new std::string(testing::MakeTempDir("security"));
    const std::string data_dir = *work_ + "/data";
    std::filesystem::create_directories(data_dir);
    keys_ = new std::map<std::string, std::string>;
    {
      auto keys = gateway::ApiKeyStore::Open(data_dir + "/gateway.db");
      ASSERT_TRUE(keys.ok()) << keys.status();
      for (const char* tenant : {"alpha", "beta"}) {
        auto created = (*keys)->Create(tenant, gateway::ApiKeyRole::kUser, "test");
        ASSERT_TRUE(created.ok());
        (*keys_)[tenant] = created->plaintext;
      }
    }
    http_port_ = testing::FreeLoopbackPort();
    server_ = new testing::ServerProcess(
        data_dir, {"--log_level=debug", absl::StrCat("--http_port=", http_port_)});
    server_->set_log_file(*work_ + "/server.log");
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    delete channel_;
    if (server_ != nullptr) server_->Terminate();
    delete server_;
    delete keys_;
    delete work_;
  }

  // A context acting as `tenant` through its API key.
  static std::unique_ptr<grpc::ClientContext> As(const std::string& tenant) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    context->AddMetadata("authorization", "Bearer " + keys_->at(tenant));
    return context;
  }

  static std::string* work_;
  static std::map<std::string, std::string>* keys_;
  static int http_port_;
  static testing::ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

std::string* SecurityTest::work_ = nullptr;
std::map<std::string, std::string>* SecurityTest::keys_ = nullptr;
int SecurityTest::http_port_ = 0;
testing::ServerProcess* SecurityTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* SecurityTest::channel_ = nullptr;

// A read by the other tenant either fails with NOT_FOUND or PERMISSION_DENIED
// or succeeds without the data; never anything else.
void ExpectHidden(const grpc::Status& status, const std::string& what) {
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::NOT_FOUND ||
              status.error_code() == grpc::StatusCode::PERMISSION_DENIED)
      << what << ": " << status.error_code() << " " << status.error_message();
}

TEST_F(SecurityTest, AKeyOfOneTenantNeverSeesAnotherTenantsData) {
  auto ingest = ingest::v1::IngestService::NewStub(*channel_);
  auto retrieval = retrieval::v1::RetrievalService::NewStub(*channel_);
  auto agents = agents::v1::AgentService::NewStub(*channel_);
  auto eval = eval::v1::EvalService::NewStub(*channel_);
  auto gateway = gateway::v1::GatewayService::NewStub(*channel_);

  // Alpha's data: a document, a graph and a finished run, an eval job.
  {
    ingest::v1::PutDocumentRequest put;
    put.set_create_collection(true);
    put.mutable_document()->set_collection("private");
    put.mutable_document()->set_id("contract");
    put.mutable_document()->set_text("The zanzibar merger closes on the first of March.");
    ingest::v1::PutDocumentResponse response;
    grpc::Status status = ingest->PutDocument(As("alpha").get(), put, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  agents::v1::Run run;
  {
    agents::v1::CreateGraphRequest request;
    request.set_definition_text(R"({"id": "lookup",
      "channels": [{"name": "question", "type": "STRING"}, {"name": "context", "type": "STRING"}],
      "nodes": [{"id": "retrieve", "retrieve": {"collection": "private", "query": "question", "top_k": 2,
                                                "output_channel": "context"}}],
      "edges": [{"from": "retrieve", "to": "__end__"}], "start": "retrieve"})");
    agents::v1::Graph graph;
    grpc::Status status = agents->CreateGraph(As("alpha").get(), request, &graph);
    ASSERT_TRUE(status.ok()) << status.error_message();
    agents::v1::StartRunRequest start;
    start.set_graph_id("lookup");
    (*start.mutable_input()->mutable_fields())["question"].set_string_value("zanzibar merger");
    ASSERT_TRUE(agents->StartRun(As("alpha").get(), start, &run).ok());
    for (int i = 0; i < 200 && run.status() == agents::v1::RUNNING; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      agents::v1::GetRunRequest get;
      get.set_run_id(run.id());
      ASSERT_TRUE(agents->GetRun(As("alpha").get(), get, &run).ok());
    }
    ASSERT_EQ(run.status(), agents::v1::SUCCEEDED) << run.error();
    ASSERT_TRUE(absl::StrContains(run.state().fields().at("context").string_value(), "zanzibar"));
  }
  eval::v1::Job job;
  {
    eval::v1::CreateJobRequest request;
    request.set_spec_text(R"(name: alpha only
metrics: ["ndcg@10"]
disagreement_threshold: 0
dataset:
  cases:
    - {"id": "q1", "input": "zanzibar", "output": "x", "labels": {"retrieved": "contract", "relevant": "contract:1"}}
)");
    grpc::Status status = eval->CreateJob(As("alpha").get(), request, &job);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (int i = 0; i < 200 && job.state() != eval::v1::SUCCEEDED && job.state() != eval::v1::FAILED; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      eval::v1::GetJobRequest get;
      get.set_id(job.id());
      ASSERT_TRUE(eval->GetJob(As("alpha").get(), get, &job).ok());
    }
    ASSERT_EQ(job.state(), eval::v1::SUCCEEDED) << job.error();
  }

  // Beta, through every read.
  {
    ingest::v1::GetDocumentRequest get;
    get.set_collection("private");
    get.set_id("contract");
    ingest::v1::GetDocumentResponse response;
    ExpectHidden(ingest->GetDocument(As("beta").get(), get, &response), "GetDocument");
  }
  {
    ingest::v1::GetCollectionRequest get;
    get.set_name("private");
    ingest::v1::Collection collection;
    ExpectHidden(ingest->GetCollection(As("beta").get(), get, &collection), "GetCollection");
  }
  {
    ingest::v1::ListCollectionsResponse response;
    ASSERT_TRUE(ingest->ListCollections(As("beta").get(), {}, &response).ok());
    for (const auto& collection : response.collections()) EXPECT_NE(collection.name(), "private");
  }
  {
    ingest::v1::ListDocumentsRequest list;
    list.set_collection("private");
    ingest::v1::ListDocumentsResponse response;
    grpc::Status status = ingest->ListDocuments(As("beta").get(), list, &response);
    if (status.ok()) {
      EXPECT_EQ(response.documents_size(), 0);
    } else {
      ExpectHidden(status, "ListDocuments");
    }
  }
  {
    ingest::v1::ListChunksRequest list;
    list.set_collection("private");
    list.set_document_id("contract");
    ingest::v1::ListChunksResponse response;
    grpc::Status status = ingest->ListChunks(As("beta").get(), list, &response);
    if (status.ok()) {
      EXPECT_EQ(response.chunks_size(), 0);
    } else {
      ExpectHidden(status, "ListChunks");
    }
  }
  {
    retrieval::v1::SearchRequest search;
    search.set_collection("private");
    search.set_query("zanzibar merger");
    search.set_mode(retrieval::v1::BM25);
    retrieval::v1::SearchResponse response;
    grpc::Status status = retrieval->Search(As("beta").get(), search, &response);
    if (status.ok()) {
      EXPECT_EQ(response.hits_size(), 0);
    } else {
      ExpectHidden(status, "Search");
    }
    retrieval::v1::BatchSearchRequest batch;
    *batch.add_requests() = search;
    retrieval::v1::BatchSearchResponse batch_response;
    status = retrieval->BatchSearch(As("beta").get(), batch, &batch_response);
    if (status.ok()) {
      EXPECT_FALSE(absl::StrContains(batch_response.DebugString(), "zanzibar"));
      EXPECT_FALSE(absl::StrContains(batch_response.DebugString(), "contract"));
    } else {
      ExpectHidden(status, "BatchSearch");
    }
    retrieval::v1::IndexStatsRequest stats_request;
    stats_request.set_collection("private");
    retrieval::v1::IndexStats stats;
    status = retrieval->GetIndexStats(As("beta").get(), stats_request, &stats);
    if (status.ok()) {
      EXPECT_EQ(stats.documents(), 0);
    } else {
      ExpectHidden(status, "GetIndexStats");
    }
    // Alpha does find it (the checks above are not vacuous).
    ASSERT_TRUE(retrieval->Search(As("alpha").get(), search, &response).ok());
    EXPECT_EQ(response.hits_size(), 1);
  }
  {
    agents::v1::GetGraphRequest get;
    get.set_id("lookup");
    agents::v1::Graph graph;
    ExpectHidden(agents->GetGraph(As("beta").get(), get, &graph), "GetGraph");
    agents::v1::ListGraphsResponse graphs;
    ASSERT_TRUE(agents->ListGraphs(As("beta").get(), {}, &graphs).ok());
    EXPECT_EQ(graphs.graphs_size(), 0);
    agents::v1::GetRunRequest get_run;
    get_run.set_run_id(run.id());
    agents::v1::Run other;
    ExpectHidden(agents->GetRun(As("beta").get(), get_run, &other), "GetRun");
    agents::v1::ListCheckpointsRequest list;
    list.set_run_id(run.id());
    agents::v1::ListCheckpointsResponse checkpoints;
    grpc::Status status = agents->ListCheckpoints(As("beta").get(), list, &checkpoints);
    if (status.ok()) {
      EXPECT_EQ(checkpoints.checkpoints_size(), 0);
    } else {
      ExpectHidden(status, "ListCheckpoints");
    }
    agents::v1::GetCheckpointRequest checkpoint_request;
    checkpoint_request.set_run_id(run.id());
    agents::v1::Checkpoint checkpoint;
    ExpectHidden(agents->GetCheckpoint(As("beta").get(), checkpoint_request, &checkpoint), "GetCheckpoint");
    agents::v1::StreamRunRequest stream_request;
    stream_request.set_run_id(run.id());
    auto context = As("beta");
    auto stream = agents->StreamRun(context.get(), stream_request);
    agents::v1::RunEvent event;
    int events = 0;
    while (stream->Read(&event)) ++events;
    EXPECT_EQ(events, 0);
    ExpectHidden(stream->Finish(), "StreamRun");
    // Beta's own graph over the same collection name retrieves nothing of alpha's.
    agents::v1::CreateGraphRequest request;
    request.set_definition_text(R"({"id": "peek",
      "channels": [{"name": "question", "type": "STRING"}, {"name": "context", "type": "STRING"}],
      "nodes": [{"id": "retrieve", "retrieve": {"collection": "private", "query": "question", "top_k": 2,
                                                "output_channel": "context"}}],
      "edges": [{"from": "retrieve", "to": "__end__"}], "start": "retrieve"})");
    agents::v1::Graph peek;
    if (agents->CreateGraph(As("beta").get(), request, &peek).ok()) {
      agents::v1::StartRunRequest start;
      start.set_graph_id("peek");
      (*start.mutable_input()->mutable_fields())["question"].set_string_value("zanzibar merger");
      agents::v1::Run beta_run;
      if (agents->StartRun(As("beta").get(), start, &beta_run).ok()) {
        for (int i = 0; i < 200 && beta_run.status() == agents::v1::RUNNING; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(25));
          agents::v1::GetRunRequest again;
          again.set_run_id(beta_run.id());
          ASSERT_TRUE(agents->GetRun(As("beta").get(), again, &beta_run).ok());
        }
        EXPECT_FALSE(absl::StrContains(beta_run.DebugString(), "zanzibar merger closes"));
      }
    }
  }
  {
    eval::v1::GetJobRequest get;
    get.set_id(job.id());
    eval::v1::Job other;
    ExpectHidden(eval->GetJob(As("beta").get(), get, &other), "GetJob");
    eval::v1::ListResultsRequest results_request;
    results_request.set_job_id(job.id());
    eval::v1::ListResultsResponse results;
    grpc::Status status = eval->ListResults(As("beta").get(), results_request, &results);
    if (status.ok()) {
      EXPECT_EQ(results.results_size(), 0);
    } else {
      ExpectHidden(status, "ListResults");
    }
    eval::v1::ListReviewItemsRequest review_request;
    review_request.set_job_id(job.id());
    eval::v1::ListReviewItemsResponse review;
    status = eval->ListReviewItems(As("beta").get(), review_request, &review);
    if (status.ok()) {
      EXPECT_EQ(review.items_size(), 0);
    } else {
      ExpectHidden(status, "ListReviewItems");
    }
    eval::v1::CalibrationRequest calibration_request;
    calibration_request.set_job_id(job.id());
    calibration_request.set_judge("any");
    eval::v1::CalibrationReport calibration;
    status = eval->GetCalibration(As("beta").get(), calibration_request, &calibration);
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
    grpc::ClientContext watch_context;
    watch_context.AddMetadata("authorization", "Bearer " + keys_->at("beta"));
    watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    eval::v1::WatchJobRequest watch;
    watch.set_id(job.id());
    auto stream = eval->WatchJob(&watch_context, watch);
    eval::v1::Job snapshot;
    int snapshots = 0;
    while (stream->Read(&snapshot)) ++snapshots;
    EXPECT_EQ(snapshots, 0);
    ExpectHidden(stream->Finish(), "WatchJob");
  }
  {
    gateway::v1::GetUsageRequest usage_request;
    usage_request.set_tenant("alpha");
    gateway::v1::GetUsageResponse usage;
    ExpectHidden(gateway->GetUsage(As("beta").get(), usage_request, &usage), "GetUsage of another tenant");
    // A user key cannot claim another tenant by header.
    auto claim = As("beta");
    claim->AddMetadata("x-tessera-tenant", "alpha");
    ingest::v1::GetDocumentRequest get;
    get.set_collection("private");
    get.set_id("contract");
    ingest::v1::GetDocumentResponse response;
    EXPECT_FALSE(ingest->GetDocument(claim.get(), get, &response).ok());
  }
}

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

TEST_F(SecurityTest, SecretsNeverReachTheLog) {
  auto ingest = ingest::v1::IngestService::NewStub(*channel_);
  const std::string wrong_key = "tsk_wrongsecret_9f8e7d6c5b4a39281706";
  // Valid and invalid keys as bearer tokens and x-api-key, over gRPC.
  for (const std::string& key : {keys_->at("alpha"), wrong_key}) {
    for (const char* header : {"authorization", "x-api-key"}) {
      grpc::ClientContext context;
      context.AddMetadata(header, std::string(header) == "authorization" ? "Bearer " + key : key);
      ingest::v1::ListCollectionsResponse response;
      ingest->ListCollections(&context, {}, &response);
    }
  }
  // And over the HTTP API.
  for (const std::string& key : {keys_->at("beta"), wrong_key}) {
    CURL* curl = curl_easy_init();
    ASSERT_NE(curl, nullptr);
    const std::string url = absl::StrCat("http://127.0.0.1:", http_port_, "/v1/models");
    const std::string header = "Authorization: Bearer " + key;
    curl_slist* headers = curl_slist_append(nullptr, header.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  }
  // A server refusing a bad TLS key file must not print the file.
  const std::string key_file = *work_ + "/server.key";
  const std::string key_secret = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYMATERIAL";
  std::ofstream(key_file) << "-----BEGIN PRIVATE KEY-----\n" << key_secret << "\n-----END PRIVATE KEY-----\n";
  std::ofstream(*work_ + "/server.pem") << "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
  std::ofstream(*work_ + "/tls.json") << "{\"tls_cert_file\": \"" << *work_ << "/server.pem\", \"tls_key_file\": \""
                                      << key_file << "\"}\n";
  testing::ServerProcess tls_server(*work_ + "/tls_data", {"--log_level=debug", "--config=" + *work_ + "/tls.json"});
  tls_server.set_log_file(*work_ + "/server.log");
  EXPECT_FALSE(tls_server.Start().ok());
  tls_server.Kill();

  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // Let the server flush its log.
  const std::string log = ReadFile(*work_ + "/server.log");
  ASSERT_FALSE(log.empty()) << "no server log captured";
  for (const auto& [tenant, key] : *keys_) {
    EXPECT_FALSE(absl::StrContains(log, key)) << tenant << "'s API key is in the log";
  }
  EXPECT_FALSE(absl::StrContains(log, wrong_key)) << "a rejected API key is in the log";
  EXPECT_FALSE(absl::StrContains(log, "Bearer ")) << "an Authorization header is in the log";
  EXPECT_FALSE(absl::StrContains(log, key_secret)) << "TLS key file contents are in the log";
  std::printf("server log checked: %zu bytes\n", log.size());
}

}  // namespace
}  // namespace tessera
