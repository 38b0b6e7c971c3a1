// Kill -9 during bulk ingestion, restart, repeat: every acknowledged batch is
// present and intact, and no document is half-written (each stored document has
// exactly the text and chunks of one complete write).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/crash_loop.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using ingest::v1::IngestService;

// The text a document id is always written with, so any stored copy can be checked.
std::string TextFor(const std::string& id) {
  std::string text = "Document " + id + ".";
  for (int i = 0; i < static_cast<int>(id.size() % 7) + 3; ++i) {
    text += " Sentence " + std::to_string(i) + " of " + id + " about retrieval.";
  }
  return text;
}

TEST(IngestCrashTest, KillNineDuringBulkIngestKeepsEveryAcknowledgedBatch) {
  const std::string data_dir = testing::MakeTempDir("ingest_crash");
  testing::ServerProcess server(data_dir);
  ASSERT_TRUE(server.Start().ok());
  std::set<std::string> acknowledged;
  std::set<std::string> attempted;
  std::mutex mu;

  testing::CrashLoopOptions options;
  options.repetitions = testing::CrashRepetitions(5);
  options.clients = 3;
  options.min_delay = absl::Milliseconds(150);
  options.max_delay = absl::Milliseconds(650);
  absl::Status looped = testing::RunCrashLoop(server, options, [&](const testing::CrashRound& r) {
    auto stub = IngestService::NewStub(
        grpc::CreateChannel(r.target, grpc::InsecureChannelCredentials()));
    for (int batch = 0; !r.killed->load(); ++batch) {
      ingest::v1::BatchPutDocumentsRequest request;
      request.set_collection("bulk");
      request.set_create_collection(true);
      std::vector<std::string> ids;
      for (int i = 0; i < 50; ++i) {
        std::string id = "r" + std::to_string(r.round) + "c" + std::to_string(r.client) + "b" +
                         std::to_string(batch) + "d" + std::to_string(i);
        auto* doc = request.add_documents();
        doc->set_id(id);
        doc->set_text(TextFor(id));
        ids.push_back(std::move(id));
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        attempted.insert(ids.begin(), ids.end());
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      ingest::v1::BatchPutDocumentsResponse response;
      if (stub->BatchPutDocuments(&context, request, &response).ok() &&
          response.succeeded() == 50) {
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.insert(ids.begin(), ids.end());
      }
    }
  });
  ASSERT_TRUE(looped.ok()) << looped;
  // At least one batch acknowledged, or there is nothing to check (few under a
  // sanitizer on a loaded machine: rounds last 150-650 ms).
  ASSERT_GE(acknowledged.size(), 50u);

  // Walk everything stored: each document is complete and was attempted.
  auto stub = IngestService::NewStub(
      grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  std::set<std::string> stored;
  std::string token;
  do {
    grpc::ClientContext context;
    ingest::v1::ListDocumentsRequest list;
    list.set_collection("bulk");
    list.mutable_page()->set_page_size(1000);
    list.mutable_page()->set_page_token(token);
    ingest::v1::ListDocumentsResponse page;
    ASSERT_TRUE(stub->ListDocuments(&context, list, &page).ok());
    for (const auto& doc : page.documents()) stored.insert(doc.id());
    token = page.page().next_page_token();
  } while (!token.empty());

  for (const std::string& id : acknowledged) {
    ASSERT_EQ(stored.count(id), 1u) << "acknowledged document lost: " << id;
  }
  int checked = 0;
  for (const std::string& id : stored) {
    ASSERT_EQ(attempted.count(id), 1u) << id;
    // Full content check on a sample (every acknowledged one would take long).
    if (checked++ % 7 != 0 && acknowledged.count(id) == 0) continue;
    grpc::ClientContext context;
    ingest::v1::GetDocumentRequest get;
    get.set_collection("bulk");
    get.set_id(id);
    get.set_include_chunks(true);
    ingest::v1::GetDocumentResponse got;
    ASSERT_TRUE(stub->GetDocument(&context, get, &got).ok()) << id;
    ASSERT_EQ(got.document().text(), TextFor(id)) << id;
    ASSERT_EQ(got.chunks_size(), got.document().chunk_count()) << id;
    ASSERT_GE(got.chunks_size(), 1) << id;
  }
  std::printf("acknowledged %zu documents over %d kills; %zu stored, all intact\n",
              acknowledged.size(), options.repetitions, stored.size());
  std::printf("CRASH_SUMMARY test=ingest repetitions=%d acknowledged_checked=%zu failures=0\n",
              options.repetitions, acknowledged.size());
}

}  // namespace
}  // namespace tessera
