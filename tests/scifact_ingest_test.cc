// Ingests BEIR SciFact (../shared/data/scifact/corpus.jsonl) into a real server
// through gRPC, the way `tessera ingest --target` does, and checks that every
// document arrived with its id, title, text and metadata intact.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <map>
#include <string>

#include "common/shared_data.h"
#include "gtest/gtest.h"
#include "ingest/parse/json_record.h"
#include "services/ingest_command.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

TEST(SciFactIngestTest, CorpusRoundTripsThroughGrpc) {
  auto corpus = FindSharedFile("data/scifact/corpus.jsonl");
  if (!corpus) GTEST_SKIP() << "../shared/data/scifact/corpus.jsonl not found (set TESSERA_SHARED_DIR)";

  // What the file says, parsed independently of the server.
  std::map<std::string, ingest::JsonRecord> expected;
  {
    std::ifstream in(*corpus);
    ingest::JsonlReader reader(&in);
    ingest::JsonRecord record;
    while (true) {
      auto more = reader.Next(&record);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      expected[record.id] = record;
    }
  }
  ASSERT_EQ(expected.size(), 5183u);

  testing::ServerProcess server(testing::MakeTempDir("scifact"));
  ASSERT_TRUE(server.Start().ok());
  services::IngestOptions options;
  options.target = server.target();
  options.collection = "scifact";
  options.paths = {*corpus};
  auto summary = services::RunIngest(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->succeeded, 5183);
  EXPECT_EQ(summary->failed, 0);

  auto stub = ingest::v1::IngestService::NewStub(
      grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    ingest::v1::GetCollectionRequest request;
    request.set_name("scifact");
    ingest::v1::Collection collection;
    ASSERT_TRUE(stub->GetCollection(&context, request, &collection).ok());
    EXPECT_EQ(collection.document_count(), 5183);
    EXPECT_GE(collection.chunk_count(), 5183);
  }
  // Every id is listed exactly once.
  std::map<std::string, int> listed;
  std::string token;
  do {
    grpc::ClientContext context;
    ingest::v1::ListDocumentsRequest request;
    request.set_collection("scifact");
    request.mutable_page()->set_page_size(1000);
    request.mutable_page()->set_page_token(token);
    ingest::v1::ListDocumentsResponse page;
    ASSERT_TRUE(stub->ListDocuments(&context, request, &page).ok());
    for (const auto& doc : page.documents()) ++listed[doc.id()];
    token = page.page().next_page_token();
  } while (!token.empty());
  ASSERT_EQ(listed.size(), expected.size());
  for (const auto& [id, count] : listed) {
    ASSERT_EQ(count, 1) << id;
    ASSERT_EQ(expected.count(id), 1u) << id;
  }
  // Full content of a spread of documents.
  int checked = 0;
  for (const auto& [id, record] : expected) {
    if (checked++ % 25 != 0) continue;
    grpc::ClientContext context;
    ingest::v1::GetDocumentRequest request;
    request.set_collection("scifact");
    request.set_id(id);
    request.set_include_chunks(true);
    ingest::v1::GetDocumentResponse got;
    ASSERT_TRUE(stub->GetDocument(&context, request, &got).ok()) << id;
    EXPECT_EQ(got.document().title(), record.title) << id;
    EXPECT_EQ(got.document().text(), record.text) << id;
    EXPECT_EQ(got.document().metadata_size(), static_cast<int>(record.metadata.size())) << id;
    for (const auto& [key, value] : record.metadata) {
      ASSERT_EQ(got.document().metadata().count(key), 1u) << id << " " << key;
      EXPECT_EQ(got.document().metadata().at(key).SerializeAsString(), value.SerializeAsString());
    }
    ASSERT_GE(got.chunks_size(), 1) << id;
    EXPECT_EQ(got.chunks(0).document_id(), id);
  }
}

}  // namespace
}  // namespace tessera
