// Kill -9 while documents are written, replaced and deleted and the BM25 index
// is rebuilt (RebuildIndex drops the collection's index and replays the ingest
// log), restart, repeat. The server freezes a BM25 segment every 16 documents
// and merges past 3 segments, so kills land in freezes and merges, and every
// restart replays the log through many merges. After each restart the index
// agrees with SQLite: every live document is found by its own unique term, no
// tombstoned document is, the index counts exactly the stored documents, and
// its segments stay within the merge bound.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"
#include "tests/crash_loop.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using ingest::v1::IngestService;
using retrieval::v1::RetrievalService;

constexpr char kCollection[] = "merge";
constexpr int kMaxBufferedDocs = 16;
constexpr int kMaxSegments = 3;

// Every document carries its id as a term no other document has.
std::string TextFor(const std::string& id, int version) {
  return absl::StrCat("Record ", id, " version ", version,
                      ". Segment merges keep postings of live documents only.");
}

std::set<std::string> StoredIds(IngestService::Stub& stub) {
  std::set<std::string> stored;
  std::string token;
  do {
    grpc::ClientContext context;
    ingest::v1::ListDocumentsRequest list;
    list.set_collection(kCollection);
    list.mutable_page()->set_page_size(1000);
    list.mutable_page()->set_page_token(token);
    ingest::v1::ListDocumentsResponse page;
    grpc::Status status = stub.ListDocuments(&context, list, &page);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    for (const auto& doc : page.documents()) stored.insert(doc.id());
    token = page.page().next_page_token();
  } while (!token.empty());
  return stored;
}

// Document ids among the BM25 hits for `id` as the query.
std::set<std::string> Found(RetrievalService::Stub& stub, const std::string& id) {
  grpc::ClientContext context;
  retrieval::v1::SearchRequest request;
  request.set_collection(kCollection);
  request.set_query(id);
  request.set_mode(retrieval::v1::BM25);
  request.set_top_k(5);
  retrieval::v1::SearchResponse response;
  grpc::Status status = stub.Search(&context, request, &response);
  EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
  std::set<std::string> ids;
  for (const auto& hit : response.hits()) ids.insert(hit.document_id());
  return ids;
}

TEST(IndexCrashTest, IndexesAgreeWithSqliteAfterKillsDuringWritesDeletesAndRebuilds) {
  const std::string data_dir = testing::MakeTempDir("index_crash");
  const std::string config_path = data_dir + ".json";
  std::ofstream(config_path) << absl::StrCat("{\"bm25_max_buffered_docs\": ", kMaxBufferedDocs,
                                             ", \"bm25_max_segments\": ", kMaxSegments, "}");
  testing::ServerProcess server(data_dir, {"--config=" + config_path});
  ASSERT_TRUE(server.Start().ok());
  {
    // Created before the first kill, so a round killed before its first write
    // still leaves a collection to compare (empty) with the index.
    auto ingest = IngestService::NewStub(
        grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    ingest::v1::CreateCollectionRequest request;
    request.mutable_collection()->set_name(kCollection);
    ingest::v1::Collection created;
    grpc::Status status = ingest->CreateCollection(&context, request, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  std::mutex mu;
  std::vector<std::string> acknowledged_puts;     // In acknowledgement order.
  std::set<std::string> acknowledged_deletes;
  // Deletes sent; one in flight at a kill may be applied without an answer.
  std::set<std::string> attempted_deletes;
  std::set<std::string> attempted;                // Every id any put tried.
  int rebuilds = 0;
  std::string rebuild_error;  // The first, for the log.
  int64_t checked = 0;
  int64_t most_segments = 0;
  int64_t most_documents = 0;

  auto check_agreement = [&](int round, const std::string& target) {
    auto ingest = IngestService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    auto retrieval = RetrievalService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    const std::set<std::string> stored = StoredIds(*ingest);
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string& id : acknowledged_puts) {
      if (attempted_deletes.count(id) == 0) {
        ASSERT_EQ(stored.count(id), 1u) << "round " << round << ": acknowledged put lost: " << id;
      }
    }
    for (const std::string& id : acknowledged_deletes) {
      ASSERT_EQ(stored.count(id), 0u) << "round " << round << ": acknowledged delete undone: " << id;
    }
    for (const std::string& id : attempted) {
      const bool live = stored.count(id) == 1;
      const bool found = Found(*retrieval, id).count(id) == 1;
      ASSERT_EQ(found, live) << "round " << round << ": " << id << (live ? " is stored but not searchable"
                                                                      : " is deleted but still searchable");
      ++checked;
    }
    grpc::ClientContext context;
    retrieval::v1::IndexStatsRequest request;
    request.set_collection(kCollection);
    retrieval::v1::IndexStats stats;
    grpc::Status status = retrieval->GetIndexStats(&context, request, &stats);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(stats.documents(), static_cast<int64_t>(stored.size())) << "round " << round;
    EXPECT_EQ(stats.applied_log_position(), stats.log_head_position()) << "round " << round;
    // Frozen segments are merged past kMaxSegments; the buffer may hold one more.
    EXPECT_LE(stats.bm25_segments(), kMaxSegments + 1) << "round " << round;
    most_segments = std::max<int64_t>(most_segments, stats.bm25_segments());
    most_documents = std::max<int64_t>(most_documents, stats.documents());
  };

  testing::CrashLoopOptions options;
  options.repetitions = testing::CrashRepetitions(3);
  options.clients = 4;
  options.min_delay = absl::Milliseconds(200);
  options.max_delay = absl::Milliseconds(900);
  options.seed = 7;
  options.after_restart = check_agreement;
  absl::Status looped = testing::RunCrashLoop(server, options, [&](const testing::CrashRound& r) {
    auto channel = grpc::CreateChannel(r.target, grpc::InsecureChannelCredentials());
    auto ingest = IngestService::NewStub(channel);
    auto retrieval = RetrievalService::NewStub(channel);
    auto deadline = [] { return std::chrono::system_clock::now() + std::chrono::seconds(20); };
    for (int batch = 0; !r.killed->load(); ++batch) {
      if (r.client == 3) {  // Rebuilds: the index is dropped and replayed while writes go on.
        grpc::ClientContext context;
        context.set_deadline(deadline());
        retrieval::v1::RebuildIndexRequest request;
        request.set_collection(kCollection);
        request.set_bm25(true);
        retrieval::v1::RebuildIndexResponse response;
        grpc::Status status = retrieval->RebuildIndex(&context, request, &response);
        std::lock_guard<std::mutex> lock(mu);
        if (status.ok()) {
          ++rebuilds;
        } else if (rebuild_error.empty() && status.error_code() != grpc::StatusCode::NOT_FOUND &&
                   !r.killed->load()) {
          rebuild_error = status.error_message();
        }
        continue;
      }
      if (r.client == 2) {  // Deletes and replaces documents written earlier.
        std::string victim;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (acknowledged_puts.size() > 10) {
            victim = acknowledged_puts[(batch * 7919) % acknowledged_puts.size()];
            if (attempted_deletes.count(victim) != 0) victim.clear();
          }
        }
        if (victim.empty()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        grpc::ClientContext context;
        context.set_deadline(deadline());
        if (batch % 3 == 0) {  // Replace: same id, new text (the old postings must go).
          ingest::v1::PutDocumentRequest put;
          put.mutable_document()->set_collection(kCollection);
          put.mutable_document()->set_id(victim);
          put.mutable_document()->set_text(TextFor(victim, batch));
          ingest::v1::PutDocumentResponse response;
          ingest->PutDocument(&context, put, &response);
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          attempted_deletes.insert(victim);
        }
        ingest::v1::DeleteDocumentRequest request;
        request.set_collection(kCollection);
        request.set_id(victim);
        ingest::v1::DeleteDocumentResponse response;
        if (ingest->DeleteDocument(&context, request, &response).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged_deletes.insert(victim);
        }
        continue;
      }
      ingest::v1::BatchPutDocumentsRequest request;
      request.set_collection(kCollection);
      request.set_create_collection(true);
      std::vector<std::string> ids;
      for (int i = 0; i < 20; ++i) {
        std::string id = absl::StrCat("m", r.round, "c", r.client, "b", batch, "d", i);
        auto* doc = request.add_documents();
        doc->set_id(id);
        doc->set_text(TextFor(id, 0));
        ids.push_back(std::move(id));
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        attempted.insert(ids.begin(), ids.end());
      }
      grpc::ClientContext context;
      context.set_deadline(deadline());
      ingest::v1::BatchPutDocumentsResponse response;
      if (ingest->BatchPutDocuments(&context, request, &response).ok() && response.succeeded() == 20) {
        std::lock_guard<std::mutex> lock(mu);
        acknowledged_puts.insert(acknowledged_puts.end(), ids.begin(), ids.end());
      }
    }
  });
  ASSERT_TRUE(looped.ok()) << looped;
  // Work happened in every kind (few under a sanitizer on a loaded machine).
  EXPECT_GE(acknowledged_puts.size(), 20u);
  EXPECT_GE(acknowledged_deletes.size(), 1u);
  // More documents than the segments could hold unmerged: replays merged.
  EXPECT_GT(most_documents, int64_t{kMaxBufferedDocs} * (kMaxSegments + 1));
  std::printf("most documents after a restart %lld, most BM25 segments %lld (merge bound %d)\n",
              static_cast<long long>(most_documents), static_cast<long long>(most_segments),
              kMaxSegments + 1);
  std::printf("%zu acknowledged puts, %zu acknowledged deletes, %d rebuilds (first refusal: %s); "
              "%lld index/SQLite checks\n",
              acknowledged_puts.size(), acknowledged_deletes.size(), rebuilds,
              rebuild_error.empty() ? "none" : rebuild_error.c_str(), static_cast<long long>(checked));
  std::printf("CRASH_SUMMARY test=index repetitions=%d acknowledged_checked=%zu failures=%d\n",
              options.repetitions, acknowledged_puts.size() + acknowledged_deletes.size(),
              HasFailure() ? 1 : 0);
}

}  // namespace
}  // namespace tessera
