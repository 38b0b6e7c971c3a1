// The real all-in-one server, started as a subprocess and called over loopback
// gRPC: health, reflection, the document store RPCs, bad input, graceful drain
// and crash durability.
#include <curl/curl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "services/admin_client.h"
#include "tessera/gateway/v1/gateway.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using ingest::v1::IngestService;
using testing::MakeTempDir;
using testing::ServerProcess;

std::unique_ptr<IngestService::Stub> IngestStub(const std::string& target) {
  return IngestService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

ingest::v1::PutDocumentRequest PutRequest(const std::string& id, const std::string& text) {
  ingest::v1::PutDocumentRequest request;
  request.set_create_collection(true);
  auto* doc = request.mutable_document();
  doc->set_collection("papers");
  doc->set_id(id);
  doc->set_title("Title " + id);
  doc->set_text(text);
  (*doc->mutable_metadata())["year"].set_int_value(2020);
  return request;
}

grpc::Status Put(IngestService::Stub* stub, const ingest::v1::PutDocumentRequest& request,
                 ingest::v1::PutDocumentResponse* response = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ingest::v1::PutDocumentResponse ignored;
  return stub->PutDocument(&context, request, response != nullptr ? response : &ignored);
}

grpc::Status Get(IngestService::Stub* stub, const std::string& id,
                 ingest::v1::GetDocumentResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ingest::v1::GetDocumentRequest request;
  request.set_collection("papers");
  request.set_id(id);
  request.set_include_chunks(true);
  return stub->GetDocument(&context, request, response);
}

class ServerIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    server_ = std::make_unique<ServerProcess>(
        data_dir_, std::vector<std::string>{"--max_document_bytes=1048576"});
    ASSERT_TRUE(server_->Start().ok());
    stub_ = IngestStub(server_->target());
  }

  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<IngestService::Stub> stub_;
};

TEST_F(ServerIntegrationTest, HealthReportsServingForServerAndEachService) {
  auto overall = services::CheckHealth(server_->target(), "", absl::Seconds(5));
  ASSERT_TRUE(overall.ok()) << overall.status();
  EXPECT_EQ(*overall, "SERVING");
  for (const char* service :
       {"tessera.ingest.v1.IngestService", "tessera.retrieval.v1.RetrievalService",
        "tessera.generation.v1.GenerationService", "tessera.agents.v1.AgentService",
        "tessera.eval.v1.EvalService", "tessera.gateway.v1.GatewayService"}) {
    auto status = services::CheckHealth(server_->target(), service, absl::Seconds(5));
    ASSERT_TRUE(status.ok()) << service;
    EXPECT_EQ(*status, "SERVING") << service;
  }
  auto unknown = services::CheckHealth(server_->target(), "no.such.Service", absl::Seconds(5));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, "SERVICE_UNKNOWN");
}

TEST_F(ServerIntegrationTest, ReflectionListsAndDescribesEveryContract) {
  auto names = services::ListServices(server_->target(), absl::Seconds(5));
  ASSERT_TRUE(names.ok()) << names.status();
  for (const char* expected :
       {"tessera.ingest.v1.IngestService", "tessera.retrieval.v1.RetrievalService",
        "tessera.generation.v1.GenerationService", "tessera.agents.v1.AgentService",
        "tessera.eval.v1.EvalService", "tessera.gateway.v1.GatewayService",
        "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_NE(std::find(names->begin(), names->end(), expected), names->end()) << expected;
  }
  auto files = services::DescribeSymbol(server_->target(), "tessera.ingest.v1.IngestService",
                                        absl::Seconds(5));
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_NE(std::find(files->begin(), files->end(), "tessera/ingest/v1/ingest.proto"),
            files->end());
  EXPECT_NE(std::find(files->begin(), files->end(), "tessera/common/v1/common.proto"),
            files->end());
  auto missing = services::DescribeSymbol(server_->target(), "no.Such", absl::Seconds(5));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ServerIntegrationTest, PutGetListDeleteRoundTrip) {
  ingest::v1::PutDocumentResponse put;
  ASSERT_TRUE(Put(stub_.get(), PutRequest("d1", "Vitamin D and bone density."), &put).ok());
  EXPECT_EQ(put.version(), 1);
  EXPECT_EQ(put.chunk_count(), 1);

  ingest::v1::GetDocumentResponse got;
  ASSERT_TRUE(Get(stub_.get(), "d1", &got).ok());
  EXPECT_EQ(got.document().text(), "Vitamin D and bone density.");
  EXPECT_EQ(got.document().title(), "Title d1");
  EXPECT_EQ(got.document().metadata().at("year").int_value(), 2020);
  EXPECT_EQ(got.document().tenant(), "default");
  ASSERT_EQ(got.chunks_size(), 1);
  EXPECT_EQ(got.chunks(0).id(), "d1#0");

  // Same content again: deduplicated, no new version.
  ASSERT_TRUE(Put(stub_.get(), PutRequest("d1", "Vitamin D and bone density."), &put).ok());
  EXPECT_TRUE(put.unchanged());
  EXPECT_EQ(put.version(), 1);

  {
    grpc::ClientContext context;
    ingest::v1::ListDocumentsRequest request;
    request.set_collection("papers");
    ingest::v1::ListDocumentsResponse response;
    ASSERT_TRUE(stub_->ListDocuments(&context, request, &response).ok());
    ASSERT_EQ(response.documents_size(), 1);
    EXPECT_EQ(response.documents(0).id(), "d1");
  }
  {
    grpc::ClientContext context;
    ingest::v1::DeleteDocumentRequest request;
    request.set_collection("papers");
    request.set_id("d1");
    ingest::v1::DeleteDocumentResponse response;
    ASSERT_TRUE(stub_->DeleteDocument(&context, request, &response).ok());
    EXPECT_TRUE(response.deleted());
  }
  grpc::Status status = Get(stub_.get(), "d1", &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("d1"), std::string::npos);
}

TEST_F(ServerIntegrationTest, ListDocumentsFiltersOnTypedMetadataAcrossPages) {
  for (int i = 0; i < 30; ++i) {
    auto request = PutRequest("f" + std::to_string(100 + i), "doc " + std::to_string(i));
    (*request.mutable_document()->mutable_metadata())["year"].set_int_value(2000 + i);
    ASSERT_TRUE(Put(stub_.get(), request).ok());
  }
  std::vector<std::string> ids;
  std::string token;
  do {
    grpc::ClientContext context;
    ingest::v1::ListDocumentsRequest request;
    request.set_collection("papers");
    request.mutable_page()->set_page_size(4);
    request.mutable_page()->set_page_token(token);
    auto* condition = request.mutable_filter()->mutable_condition();
    condition->set_field("year");
    condition->set_op(common::v1::FieldCondition::GTE);
    condition->mutable_value()->set_int_value(2020);
    ingest::v1::ListDocumentsResponse response;
    ASSERT_TRUE(stub_->ListDocuments(&context, request, &response).ok());
    EXPECT_LE(response.documents_size(), 4);
    for (const auto& doc : response.documents()) ids.push_back(doc.id());
    token = response.page().next_page_token();
  } while (!token.empty());
  std::vector<std::string> expected;
  for (int i = 20; i < 30; ++i) expected.push_back("f" + std::to_string(100 + i));
  EXPECT_EQ(ids, expected);

  grpc::ClientContext context;
  ingest::v1::ListDocumentsRequest bad;
  bad.set_collection("papers");
  bad.mutable_filter()->mutable_condition()->set_field("year");
  ingest::v1::ListDocumentsResponse response;
  grpc::Status status = stub_->ListDocuments(&context, bad, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("year"), std::string::npos) << status.error_message();
}

TEST_F(ServerIntegrationTest, TenantsDoNotSeeEachOthersDocuments) {
  auto request = PutRequest("secret", "Tenant A's data.");
  grpc::ClientContext put_context;
  put_context.AddMetadata("x-tessera-tenant", "tenant-a");
  ingest::v1::PutDocumentResponse put;
  ASSERT_TRUE(stub_->PutDocument(&put_context, request, &put).ok());

  grpc::ClientContext get_context;
  get_context.AddMetadata("x-tessera-tenant", "tenant-b");
  ingest::v1::GetDocumentRequest get;
  get.set_collection("papers");
  get.set_id("secret");
  ingest::v1::GetDocumentResponse response;
  EXPECT_EQ(stub_->GetDocument(&get_context, get, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerIntegrationTest, BadInputIsInvalidArgumentWithAMessage) {
  // Missing id.
  grpc::Status status = Put(stub_.get(), PutRequest("", "text"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("document.id"), std::string::npos)
      << status.error_message();

  // Missing document.
  status = Put(stub_.get(), ingest::v1::PutDocumentRequest());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Oversized payload (the server runs with --max_document_bytes=1 MiB).
  status = Put(stub_.get(), PutRequest("big", std::string(2 << 20, 'x')));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("limit"), std::string::npos) << status.error_message();

  // Invalid UTF-8 in raw content: rejected with the byte offset.
  auto raw = PutRequest("raw", "");
  raw.mutable_document()->set_content("abc\xff\xfe");
  status = Put(stub_.get(), raw);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("byte offset 3"), std::string::npos)
      << status.error_message();

  // Invalid UTF-8 in a proto3 string field: the request cannot even be parsed.
  status = Put(stub_.get(), PutRequest("bad-utf8", "ok \xc3\x28 broken"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("UTF-8"), std::string::npos) << status.error_message();

  // Bad collection name.
  auto bad_collection = PutRequest("x", "text");
  bad_collection.mutable_document()->set_collection("has space");
  status = Put(stub_.get(), bad_collection);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Nothing of the above was stored, and the server is still healthy.
  ingest::v1::GetDocumentResponse got;
  EXPECT_EQ(Get(stub_.get(), "big", &got).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(*services::CheckHealth(server_->target(), "", absl::Seconds(5)), "SERVING");
}

TEST_F(ServerIntegrationTest, GatewayReportsTheLocalEngineBackend) {
  auto stub = gateway::v1::GatewayService::NewStub(
      grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  gateway::v1::ListRoutesRequest request;
  gateway::v1::ListRoutesResponse response;
  grpc::Status status = stub->ListRoutes(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.backends_size(), 1);  // no router config: the local engine only
  EXPECT_EQ(response.backends(0).kind(), "local");
  EXPECT_EQ(response.backends(0).circuit_state(), "closed");
}

TEST_F(ServerIntegrationTest, BatchAndStreamIngestWithIdempotency) {
  ingest::v1::BatchPutDocumentsRequest batch;
  batch.set_collection("papers");
  batch.set_create_collection(true);
  batch.set_idempotency_key("import-42");
  for (int i = 0; i < 5; ++i) {
    auto* doc = batch.add_documents();
    doc->set_id("b" + std::to_string(i));
    doc->set_text("batch document " + std::to_string(i));
  }
  batch.add_documents()->set_text("no id: fails alone");
  ingest::v1::BatchPutDocumentsResponse first;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->BatchPutDocuments(&context, batch, &first).ok());
  }
  EXPECT_EQ(first.succeeded(), 5);
  EXPECT_EQ(first.failed(), 1);
  ingest::v1::BatchPutDocumentsResponse replay;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->BatchPutDocuments(&context, batch, &replay).ok());
  }
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(replay.succeeded(), 5);

  grpc::ClientContext context;
  ingest::v1::StreamIngestResponse summary;
  auto writer = stub_->StreamIngest(&context, &summary);
  for (int m = 0; m < 4; ++m) {
    ingest::v1::StreamIngestRequest message;
    if (m == 0) {
      message.set_collection("streamed");
      message.set_create_collection(true);
    }
    for (int i = 0; i < 100; ++i) {
      auto* doc = message.add_documents();
      doc->set_id("s" + std::to_string(m * 100 + i));
      doc->set_text("streamed document " + std::to_string(m * 100 + i));
    }
    ASSERT_TRUE(writer->Write(message));
  }
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.documents_received(), 400);
  EXPECT_EQ(summary.succeeded(), 400);
  EXPECT_EQ(summary.failed(), 0);

  grpc::ClientContext get_context;
  ingest::v1::GetCollectionRequest get;
  get.set_name("streamed");
  ingest::v1::Collection collection;
  ASSERT_TRUE(stub_->GetCollection(&get_context, get, &collection).ok());
  EXPECT_EQ(collection.document_count(), 400);
}

TEST_F(ServerIntegrationTest, SigtermDrainsInFlightStreamThenExitsCleanly) {
  grpc::ClientContext context;
  ingest::v1::StreamIngestResponse summary;
  auto writer = stub_->StreamIngest(&context, &summary);
  ingest::v1::StreamIngestRequest message;
  message.set_collection("drain");
  message.set_create_collection(true);
  message.add_documents()->set_id("before");
  message.mutable_documents(0)->set_text("sent before SIGTERM");
  ASSERT_TRUE(writer->Write(message));
  // Give the server time to have the call in flight, then ask it to stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server_->SignalTerminate();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ingest::v1::StreamIngestRequest more;
  more.add_documents()->set_id("after");
  more.mutable_documents(0)->set_text("sent after SIGTERM, still in the drained call");
  writer->Write(more);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.succeeded(), 2);
  EXPECT_EQ(server_->WaitForExit(), 0);

  // Both documents of the drained call are durable.
  ASSERT_TRUE(server_->Start().ok());
  auto stub = IngestStub(server_->target());
  grpc::ClientContext get_context;
  ingest::v1::GetCollectionRequest get;
  get.set_name("drain");
  ingest::v1::Collection collection;
  ASSERT_TRUE(stub->GetCollection(&get_context, get, &collection).ok());
  EXPECT_EQ(collection.document_count(), 2);
}

TEST_F(ServerIntegrationTest, KillNineRightAfterAcknowledgedWriteLosesNothing) {
  ingest::v1::PutDocumentResponse put;
  ASSERT_TRUE(Put(stub_.get(), PutRequest("acked", "This write was acknowledged."), &put).ok());
  server_->Kill();
  ASSERT_TRUE(server_->Start().ok());
  stub_ = IngestStub(server_->target());
  ingest::v1::GetDocumentResponse got;
  ASSERT_TRUE(Get(stub_.get(), "acked", &got).ok());
  EXPECT_EQ(got.document().text(), "This write was acknowledged.");
  EXPECT_EQ(got.document().version(), 1);
}

size_t CollectBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

long HttpGet(const std::string& url, std::string* body) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
  long code = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  return code;
}

TEST(ServerHttpTest, HealthzAndMetricsOnTheHttpPort) {
  const int http_port = testing::FreeLoopbackPort();
  ServerProcess server(MakeTempDir("http"), {"--http_port=" + std::to_string(http_port)});
  ASSERT_TRUE(server.Start().ok());
  auto stub = IngestStub(server.target());
  ASSERT_TRUE(Put(stub.get(), PutRequest("m1", "metrics")).ok());
  EXPECT_EQ(Put(stub.get(), PutRequest("", "no id")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  const std::string base = "http://127.0.0.1:" + std::to_string(http_port);
  std::string body;
  EXPECT_EQ(HttpGet(base + "/healthz", &body), 200);
  EXPECT_EQ(body, "SERVING\n");
  body.clear();
  EXPECT_EQ(HttpGet(base + "/metrics", &body), 200);
  EXPECT_NE(body.find("tessera_grpc_server_handled_total{code=\"OK\",method=\"/tessera.ingest."
                      "v1.IngestService/PutDocument\"} 1"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("tessera_grpc_server_handled_total{code=\"INVALID_ARGUMENT\",method=\"/"
                      "tessera.ingest.v1.IngestService/PutDocument\"} 1"),
            std::string::npos);
  EXPECT_NE(body.find("tessera_grpc_server_handling_seconds_count"), std::string::npos);
  EXPECT_EQ(server.Terminate(), 0);
}

// Writers keep writing while the server is killed at a random moment, several
// times over: every acknowledged write must be present and intact afterwards.
TEST_F(ServerIntegrationTest, KillNineDuringConcurrentWritesKeepsEveryAcknowledgedWrite) {
  std::mt19937 random(12345);
  std::map<std::string, std::string> acknowledged;  // id -> text
  for (int round = 0; round < 3; ++round) {
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    const std::string target = server_->target();
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        auto stub = IngestStub(target);
        for (int i = 0; !stop.load(); ++i) {
          const std::string id = "r" + std::to_string(round) + "-w" + std::to_string(w) + "-" +
                                 std::to_string(i);
          const std::string text = "payload of " + id + std::string(i % 50, '.');
          if (Put(stub.get(), PutRequest(id, text)).ok()) {
            std::lock_guard<std::mutex> lock(mu);
            acknowledged[id] = text;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 400));
    server_->Kill();
    stop = true;
    for (auto& writer : writers) writer.join();
    ASSERT_TRUE(server_->Start().ok());
  }
  ASSERT_GT(acknowledged.size(), 10u);
  auto stub = IngestStub(server_->target());
  for (const auto& [id, text] : acknowledged) {
    ingest::v1::GetDocumentResponse got;
    grpc::Status status = Get(stub.get(), id, &got);
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    ASSERT_EQ(got.document().text(), text) << id;
    ASSERT_EQ(got.chunks_size(), 1) << id;
  }
}

}  // namespace
}  // namespace tessera
