// Field size limits: the reflective check on messages, and the interceptor on a
// real server over loopback gRPC (oversize requests answer INVALID_ARGUMENT with
// the field's path and change nothing; gRPC's own methods are untouched).
#include "services/request_limits.h"

#include <grpcpp/create_channel.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/admin_client.h"
#include "services/server_config.h"
#include "services/tessera_server.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::services {
namespace {

using ::testing::HasSubstr;

RequestLimits SmallLimits() {
  RequestLimits limits;
  limits.max_field_bytes = 1000;
  limits.max_document_bytes = 5000;
  limits.max_repeated_entries = 10;
  return limits;
}

TEST(CheckRequestLimitsTest, NamesTheOversizeFieldByPath) {
  retrieval::v1::SearchRequest search;
  search.set_collection("c");
  search.set_query(std::string(1000, 'q'));
  EXPECT_TRUE(CheckRequestLimits(search, SmallLimits()).ok());
  search.set_query(std::string(1001, 'q'));
  absl::Status status = CheckRequestLimits(search, SmallLimits());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "query is 1001 bytes, over the limit of 1000");

  ingest::v1::BatchPutDocumentsRequest batch;
  batch.set_collection("c");
  for (int i = 0; i < 3; ++i) batch.add_documents()->set_id(absl::StrCat("d", i));
  (*batch.mutable_documents(2)->mutable_metadata())["k"].set_string_value(std::string(2000, 'v'));
  status = CheckRequestLimits(batch, SmallLimits());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("documents[2].metadata[0].value.string_value is 2000 bytes"));
}

TEST(CheckRequestLimitsTest, DocumentBodiesHaveTheirOwnLimit) {
  ingest::v1::PutDocumentRequest put;
  put.mutable_document()->set_id("d");
  put.mutable_document()->set_text(std::string(5000, 't'));
  EXPECT_TRUE(CheckRequestLimits(put, SmallLimits()).ok());
  put.mutable_document()->set_text("");
  put.mutable_document()->set_content(std::string(5001, 'c'));
  EXPECT_EQ(CheckRequestLimits(put, SmallLimits()).message(),
            "document.content is 5001 bytes, over the limit of 5000");
  put.mutable_document()->set_content("");
  put.mutable_document()->set_title(std::string(1001, 't'));  // Not a body: the field limit.
  EXPECT_FALSE(CheckRequestLimits(put, SmallLimits()).ok());
}

TEST(CheckRequestLimitsTest, CountsRepeatedEntriesAndWalksStructs) {
  retrieval::v1::SearchRequest search;
  for (int i = 0; i < 11; ++i) search.add_query_vector(0.5f);
  EXPECT_EQ(CheckRequestLimits(search, SmallLimits()).message(),
            "query_vector is 11 entries, over the limit of 10");

  agents::v1::StartRunRequest start;
  start.set_graph_id("g");
  (*start.mutable_input()->mutable_fields())["question"].set_string_value(std::string(1001, 'x'));
  EXPECT_THAT(std::string(CheckRequestLimits(start, SmallLimits()).message()),
              HasSubstr("input.fields[0].value.string_value is 1001 bytes"));
}

class RequestLimitsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.data_dir = absl::StrCat(::testing::TempDir(), "/request_limits_test_data");
    config.max_field_bytes = 1000;
    config.max_repeated_entries = 10;
    config.max_document_bytes = 5000;
    auto server = TesseraServer::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<TesseraServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(RequestLimitsServerTest, OversizeRequestsAreInvalidArgumentAndChangeNothing) {
  auto ingest = ingest::v1::IngestService::NewStub(channel_);
  ingest::v1::BatchPutDocumentsRequest batch;
  batch.set_collection("papers");
  batch.set_create_collection(true);
  for (int i = 0; i < 11; ++i) {
    auto* document = batch.add_documents();
    document->set_id(absl::StrCat("d", i));
    document->set_text("small");
  }
  ingest::v1::BatchPutDocumentsResponse batch_response;
  grpc::ClientContext batch_context;
  grpc::Status status = ingest->BatchPutDocuments(&batch_context, batch, &batch_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "/tessera.ingest.v1.IngestService/BatchPutDocuments: documents is 11 entries, over "
            "the limit of 10");

  // Nothing was written: the collection the batch would have created is absent.
  ingest::v1::GetCollectionRequest get;
  get.set_name("papers");
  ingest::v1::Collection collection;
  grpc::ClientContext get_context;
  EXPECT_EQ(ingest->GetCollection(&get_context, get, &collection).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Within the limits the same batch is stored.
  batch.mutable_documents()->RemoveLast();
  grpc::ClientContext ok_context;
  status = ingest->BatchPutDocuments(&ok_context, batch, &batch_response);
  EXPECT_TRUE(status.ok()) << status.error_message();

  auto retrieval = retrieval::v1::RetrievalService::NewStub(channel_);
  retrieval::v1::SearchRequest search;
  search.set_collection("papers");
  search.set_query(std::string(1001, 'q'));
  retrieval::v1::SearchResponse search_response;
  grpc::ClientContext search_context;
  status = retrieval->Search(&search_context, search, &search_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("query is 1001 bytes, over the limit of 1000"));
}

TEST_F(RequestLimitsServerTest, AnOversizeStreamMessageFailsTheStream) {
  auto ingest = ingest::v1::IngestService::NewStub(channel_);
  ingest::v1::StreamIngestResponse response;
  grpc::ClientContext context;
  auto writer = ingest->StreamIngest(&context, &response);
  ingest::v1::StreamIngestRequest message;
  message.set_collection("streamed");
  message.set_create_collection(true);
  message.add_documents()->set_id("ok");
  message.mutable_documents(0)->set_text("fine");
  EXPECT_TRUE(writer->Write(message));
  message.Clear();
  message.add_documents()->set_id(std::string(1001, 'i'));
  writer->Write(message);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("documents[0].id is 1001 bytes"));
}

TEST_F(RequestLimitsServerTest, GrpcsOwnServicesAreNotIntercepted) {
  auto health = CheckHealth(absl::StrCat("127.0.0.1:", server_->port()), "", absl::Seconds(5));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
}

}  // namespace
}  // namespace tessera::services
