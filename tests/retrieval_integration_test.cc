// Retrieval through the real server over loopback gRPC: documents ingested
// through tessera.ingest.v1 are searchable at once, filters and modes behave,
// and the indexes come back after a crash (rebuilt from the SQLite log).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <string>

#include "gtest/gtest.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

class RetrievalIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::ServerProcess>(testing::MakeTempDir("retrieval"));
    ASSERT_TRUE(server_->Start().ok());
    Connect();
    ingest::v1::BatchPutDocumentsRequest batch;
    batch.set_collection("med");
    batch.set_create_collection(true);
    const char* texts[][2] = {
        {"aspirin", "Aspirin reduces the risk of heart attack in adults."},
        {"vitamin", "Vitamin D supplements improve bone density in older women."},
        {"insulin", "Insulin pumps help control blood sugar in type 1 diabetes."},
        {"statins", "Statins lower cholesterol and the risk of heart disease."},
    };
    int year = 2000;
    for (const auto& [id, text] : texts) {
      auto* doc = batch.add_documents();
      doc->set_id(id);
      doc->set_title(std::string(id) + " study");
      doc->set_text(text);
      (*doc->mutable_metadata())["year"].set_int_value(year += 5);
    }
    grpc::ClientContext context;
    ingest::v1::BatchPutDocumentsResponse response;
    ASSERT_TRUE(ingest_->BatchPutDocuments(&context, batch, &response).ok());
    ASSERT_EQ(response.succeeded(), 4);
  }

  void Connect() {
    auto channel = grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials());
    ingest_ = ingest::v1::IngestService::NewStub(channel);
    retrieval_ = retrieval::v1::RetrievalService::NewStub(channel);
  }

  grpc::Status Search(const retrieval::v1::SearchRequest& request,
                      retrieval::v1::SearchResponse* response) {
    grpc::ClientContext context;
    return retrieval_->Search(&context, request, response);
  }

  retrieval::v1::SearchRequest Bm25(const std::string& query) {
    retrieval::v1::SearchRequest request;
    request.set_collection("med");
    request.set_query(query);
    request.set_mode(retrieval::v1::BM25);
    request.set_top_k(3);
    return request;
  }

  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<ingest::v1::IngestService::Stub> ingest_;
  std::unique_ptr<retrieval::v1::RetrievalService::Stub> retrieval_;
};

TEST_F(RetrievalIntegrationTest, AcknowledgedDocumentsAreSearchableAtOnce) {
  retrieval::v1::SearchResponse response;
  ASSERT_TRUE(Search(Bm25("heart attack"), &response).ok());
  ASSERT_GE(response.hits_size(), 2);
  EXPECT_EQ(response.hits(0).document_id(), "aspirin");
  EXPECT_EQ(response.hits(0).provenance().title(), "aspirin study");
  EXPECT_EQ(response.hits(0).scores().bm25_rank(), 1);

  // A document put now is found by the very next search (read-your-writes).
  ingest::v1::PutDocumentRequest put;
  put.mutable_document()->set_collection("med");
  put.mutable_document()->set_id("metformin");
  put.mutable_document()->set_text("Metformin is the first-line drug for type 2 diabetes.");
  grpc::ClientContext context;
  ingest::v1::PutDocumentResponse put_response;
  ASSERT_TRUE(ingest_->PutDocument(&context, put, &put_response).ok());
  ASSERT_TRUE(Search(Bm25("metformin"), &response).ok());
  ASSERT_EQ(response.hits_size(), 1);
  EXPECT_EQ(response.hits(0).document_id(), "metformin");

  // And a deleted one is gone.
  grpc::ClientContext delete_context;
  ingest::v1::DeleteDocumentRequest del;
  del.set_collection("med");
  del.set_id("metformin");
  ingest::v1::DeleteDocumentResponse deleted;
  ASSERT_TRUE(ingest_->DeleteDocument(&delete_context, del, &deleted).ok());
  ASSERT_TRUE(Search(Bm25("metformin"), &response).ok());
  EXPECT_EQ(response.hits_size(), 0);
}

TEST_F(RetrievalIntegrationTest, FiltersModesAndErrors) {
  auto request = Bm25("risk heart");
  auto* condition = request.mutable_filter()->mutable_condition();
  condition->set_field("year");
  condition->set_op(common::v1::FieldCondition::GTE);
  condition->mutable_value()->set_int_value(2020);
  retrieval::v1::SearchResponse response;
  ASSERT_TRUE(Search(request, &response).ok());
  ASSERT_EQ(response.hits_size(), 1);
  EXPECT_EQ(response.hits(0).document_id(), "statins");

  auto dense = Bm25("heart");
  dense.set_mode(retrieval::v1::DENSE);
  grpc::Status status = Search(dense, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("embedding model"), std::string::npos);

  auto missing = Bm25("heart");
  missing.set_collection("nope");
  EXPECT_EQ(Search(missing, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  auto no_query = Bm25("");
  EXPECT_EQ(Search(no_query, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RetrievalIntegrationTest, IndexesAreRebuiltAfterKillNine) {
  server_->Kill();
  ASSERT_TRUE(server_->Start().ok());
  Connect();
  retrieval::v1::SearchResponse response;
  ASSERT_TRUE(Search(Bm25("bone density"), &response).ok());
  ASSERT_GE(response.hits_size(), 1);
  EXPECT_EQ(response.hits(0).document_id(), "vitamin");

  grpc::ClientContext context;
  retrieval::v1::IndexStatsRequest stats_request;
  stats_request.set_collection("med");
  retrieval::v1::IndexStats stats;
  ASSERT_TRUE(retrieval_->GetIndexStats(&context, stats_request, &stats).ok());
  EXPECT_EQ(stats.documents(), 4);
  EXPECT_EQ(stats.chunks(), 4);
  EXPECT_EQ(stats.applied_log_position(), stats.log_head_position());

  grpc::ClientContext rebuild_context;
  retrieval::v1::RebuildIndexRequest rebuild;
  rebuild.set_collection("med");
  rebuild.set_bm25(true);
  retrieval::v1::RebuildIndexResponse rebuilt;
  ASSERT_TRUE(retrieval_->RebuildIndex(&rebuild_context, rebuild, &rebuilt).ok());
  EXPECT_EQ(rebuilt.stats().documents(), 4);
}

}  // namespace
}  // namespace tessera
