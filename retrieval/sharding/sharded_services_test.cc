// Real retrieval shards (in-process Tessera servers on loopback, each with its
// own SQLite store and indexes) behind a real router (a Tessera server with
// retrieval_shards), compared with one server holding every document.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "retrieval/sharding/rebalance.h"
#include "retrieval/sharding/search_comparison.h"
#include "retrieval/sharding/shard_set.h"
#include "retrieval/sharding/sharded_ingest_service.h"
#include "services/tessera_server.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::retrieval::sharding {
namespace {

using services::ServerConfig;
using services::TesseraServer;

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(base != nullptr ? base : "/tmp", "/sharded_test/", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::unique_ptr<TesseraServer> StartServer(const std::string& data_dir, int port,
                                           std::vector<std::string> shards = {},
                                           int shard_timeout_ms = 2000,
                                           ServerConfig config = ServerConfig()) {
  config.host = "127.0.0.1";
  config.port = port;
  config.data_dir = data_dir;
  config.drain_seconds = 0;
  config.services = {"ingest", "retrieval"};
  config.retrieval_shards = std::move(shards);
  config.shard_timeout_ms = shard_timeout_ms;
  auto server = TesseraServer::Start(config);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

std::string Target(const TesseraServer& server) {
  return absl::StrCat("127.0.0.1:", server.port());
}

// Documents of words drawn from a small vocabulary with a skewed distribution,
// so that BM25 statistics differ between shards.
// With `unique_lengths`, no two documents have the same length, so that BM25
// scores do not tie (tied hits are ordered by internal ids, which differ
// between one index and the shards).
std::vector<common::v1::Document> MakeDocuments(int count, int first_id, uint32_t seed,
                                                bool unique_lengths = false) {
  std::mt19937 random(seed);
  std::vector<std::string> vocabulary;
  for (int i = 0; i < 300; ++i) vocabulary.push_back(absl::StrCat("w", i * 7 % 1000, "x"));
  std::geometric_distribution<int> word(0.02);
  std::uniform_int_distribution<int> length(5, 60);
  std::vector<common::v1::Document> documents;
  for (int i = 0; i < count; ++i) {
    common::v1::Document document;
    document.set_id(absl::StrCat("doc-", first_id + i));
    std::vector<std::string> words;
    const int n = unique_lengths ? 5 + i : length(random);
    for (int j = 0; j < n; ++j) words.push_back(vocabulary[word(random) % vocabulary.size()]);
    document.set_title(absl::StrCat("title ", vocabulary[word(random) % vocabulary.size()]));
    document.set_text(absl::StrJoin(words, " ") + absl::StrCat(" unique", first_id + i, "token"));
    (*document.mutable_metadata())["parity"].set_string_value((first_id + i) % 2 ? "odd" : "even");
    documents.push_back(std::move(document));
  }
  return documents;
}

std::vector<std::string> MakeQueries(int count, uint32_t seed) {
  std::mt19937 random(seed);
  std::geometric_distribution<int> word(0.03);
  std::vector<std::string> queries;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> words;
    for (int j = 0; j < 1 + i % 4; ++j)
      words.push_back(absl::StrCat("w", word(random) % 300 * 7 % 1000, "x"));
    queries.push_back(absl::StrJoin(words, " "));
  }
  return queries;
}

class Client {
 public:
  explicit Client(const std::string& target)
      : channel_(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())),
        ingest_(ingest::v1::IngestService::NewStub(channel_)),
        retrieval_(retrieval::v1::RetrievalService::NewStub(channel_)) {}

  // Returns the trailing handed-off header ("" when none).
  std::string Put(const std::vector<common::v1::Document>& documents) {
    grpc::ClientContext context;
    ingest::v1::BatchPutDocumentsRequest request;
    request.set_collection("c");
    request.set_create_collection(true);
    for (const auto& document : documents) *request.add_documents() = document;
    ingest::v1::BatchPutDocumentsResponse response;
    grpc::Status status = ingest_->BatchPutDocuments(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.succeeded(), static_cast<int64_t>(documents.size()));
    EXPECT_EQ(response.results_size(), static_cast<int>(documents.size()));
    for (int i = 0; i < response.results_size() && i < static_cast<int>(documents.size()); ++i) {
      EXPECT_EQ(response.results(i).id(), documents[i].id());
    }
    auto header = context.GetServerTrailingMetadata().find(kHandedOffHeader);
    return header == context.GetServerTrailingMetadata().end()
               ? ""
               : std::string(header->second.data(), header->second.size());
  }

  retrieval::v1::SearchResponse Search(const std::string& query, int top_k = 10, int timeout_ms = 0,
                                       const std::string& parity = "") {
    grpc::ClientContext context;
    retrieval::v1::SearchRequest request;
    request.set_collection("c");
    request.set_query(query);
    request.set_mode(retrieval::v1::BM25);
    request.set_top_k(top_k);
    request.set_timeout_ms(timeout_ms);
    if (!parity.empty()) {
      auto* condition = request.mutable_filter()->mutable_condition();
      condition->set_field("parity");
      condition->set_op(common::v1::FieldCondition::EQ);
      condition->mutable_value()->set_string_value(parity);
    }
    retrieval::v1::SearchResponse response;
    grpc::Status status = retrieval_->Search(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  int64_t DocumentCount() {
    grpc::ClientContext context;
    ingest::v1::GetCollectionRequest request;
    request.set_name("c");
    ingest::v1::Collection collection;
    grpc::Status status = ingest_->GetCollection(&context, request, &collection);
    return status.ok() ? collection.document_count() : -1;
  }

  ingest::v1::IngestService::Stub* ingest() { return ingest_.get(); }
  retrieval::v1::RetrievalService::Stub* retrieval() { return retrieval_.get(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ingest::v1::IngestService::Stub> ingest_;
  std::unique_ptr<retrieval::v1::RetrievalService::Stub> retrieval_;
};

class ShardedServicesTest : public ::testing::Test {
 protected:
  void StartCluster(int shard_count, int shard_timeout_ms = 2000) {
    std::vector<std::string> addresses;
    for (int i = 0; i < shard_count; ++i) {
      shard_dirs_.push_back(TempDir(absl::StrCat(test_name(), "/shard", i)));
      shards_.push_back(StartServer(shard_dirs_.back(), 0));
      ASSERT_NE(shards_.back(), nullptr);
      shard_ports_.push_back(shards_.back()->port());
      addresses.push_back(Target(*shards_.back()));
    }
    reference_ = StartServer(TempDir(absl::StrCat(test_name(), "/reference")), 0);
    router_ =
        StartServer(TempDir(absl::StrCat(test_name(), "/router")), 0, addresses, shard_timeout_ms);
    ASSERT_NE(reference_, nullptr);
    ASSERT_NE(router_, nullptr);
    router_client_ = std::make_unique<Client>(Target(*router_));
    reference_client_ = std::make_unique<Client>(Target(*reference_));
  }

  void StopShard(int i) {
    shards_[i]->Shutdown(absl::ZeroDuration());
    shards_[i]->Wait();
    shards_[i].reset();
  }
  void RestartShard(int i) {
    shards_[i] = StartServer(shard_dirs_[i], shard_ports_[i]);
    ASSERT_NE(shards_[i], nullptr);
  }

  static std::string test_name() {
    return ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  std::vector<std::string> shard_dirs_;
  std::vector<int> shard_ports_;
  std::vector<std::unique_ptr<TesseraServer>> shards_;
  std::unique_ptr<TesseraServer> reference_;
  std::unique_ptr<TesseraServer> router_;
  std::unique_ptr<Client> router_client_;
  std::unique_ptr<Client> reference_client_;
};

TEST_F(ShardedServicesTest, SearchThroughShardsEqualsOneIndex) {
  StartCluster(3);
  const auto documents = MakeDocuments(600, 0, 1);
  EXPECT_EQ(router_client_->Put(documents), "");
  reference_client_->Put(documents);

  // Documents are spread over every shard, each stored once.
  int64_t total = 0;
  for (const auto& shard : shards_) {
    Client direct(Target(*shard));
    const int64_t count = direct.DocumentCount();
    EXPECT_GT(count, 600 / 3 / 2);
    total += count;
  }
  EXPECT_EQ(total, 600);
  EXPECT_EQ(router_client_->DocumentCount(), 600);

  int compared = 0;
  for (const std::string& query : MakeQueries(60, 2)) {
    const auto expected = reference_client_->Search(query, 10);
    const auto actual = router_client_->Search(query, 10);
    EXPECT_FALSE(actual.partial());
    ExpectSameResults(expected, actual, query);
    compared += expected.hits_size();
    // Filters apply on every shard; their matches add up.
    const auto expected_odd = reference_client_->Search(query, 5, 0, "odd");
    const auto actual_odd = router_client_->Search(query, 5, 0, "odd");
    ExpectSameResults(expected_odd, actual_odd, query + " (odd)");
    EXPECT_EQ(actual_odd.filter_matches(), expected_odd.filter_matches());
  }
  EXPECT_GT(compared, 300);

  // Without the global statistics a shard's own scores differ from one index's.
  Client shard0(Target(*shards_[0]));
  const std::string query = MakeQueries(1, 2)[0];
  const auto local = shard0.Search(query, 1);
  ASSERT_EQ(local.hits_size(), 1);
  bool differs = true;
  const auto whole_hits = reference_client_->Search(query, 50);
  for (const auto& hit : whole_hits.hits()) {
    if (hit.chunk_id() == local.hits(0).chunk_id()) differs = hit.score() != local.hits(0).score();
  }
  EXPECT_TRUE(differs);

  // Router-side term statistics are the sums the shards score with.
  grpc::ClientContext context;
  retrieval::v1::TermStatisticsRequest stats_request;
  stats_request.set_collection("c");
  stats_request.set_query(query);
  retrieval::v1::Bm25CorpusStats routed;
  ASSERT_TRUE(
      router_client_->retrieval()->GetTermStatistics(&context, stats_request, &routed).ok());
  grpc::ClientContext reference_context;
  retrieval::v1::Bm25CorpusStats whole;
  ASSERT_TRUE(reference_client_->retrieval()
                  ->GetTermStatistics(&reference_context, stats_request, &whole)
                  .ok());
  EXPECT_EQ(routed.doc_count(), whole.doc_count());
  EXPECT_EQ(routed.total_length(), whole.total_length());
  using Frequencies = std::map<std::string, int64_t>;
  EXPECT_EQ(Frequencies(routed.doc_frequencies().begin(), routed.doc_frequencies().end()),
            Frequencies(whole.doc_frequencies().begin(), whole.doc_frequencies().end()));

  // Documents are read and deleted on their owner.
  grpc::ClientContext get_context;
  ingest::v1::GetDocumentRequest get;
  get.set_collection("c");
  get.set_id("doc-17");
  ingest::v1::GetDocumentResponse got;
  ASSERT_TRUE(router_client_->ingest()->GetDocument(&get_context, get, &got).ok());
  EXPECT_EQ(got.document().text(), documents[17].text());
  // Listing walks every shard once.
  std::set<std::string> listed;
  std::string token;
  do {
    grpc::ClientContext list_context;
    ingest::v1::ListDocumentsRequest list;
    list.set_collection("c");
    list.mutable_page()->set_page_size(250);
    list.mutable_page()->set_page_token(token);
    ingest::v1::ListDocumentsResponse page;
    ASSERT_TRUE(router_client_->ingest()->ListDocuments(&list_context, list, &page).ok());
    EXPECT_LE(page.documents_size(), 250);
    for (const auto& document : page.documents()) EXPECT_TRUE(listed.insert(document.id()).second);
    token = page.page().next_page_token();
  } while (!token.empty());
  EXPECT_EQ(listed.size(), 600u);
}

TEST_F(ShardedServicesTest, ShardDownGivesPartialResultsAndHandedOffWritesCatchUp) {
  StartCluster(3, /*shard_timeout_ms=*/1000);
  const auto documents = MakeDocuments(300, 0, 3);
  router_client_->Put(documents);
  reference_client_->Put(documents);

  StopShard(1);
  const auto start = std::chrono::steady_clock::now();
  const std::string query = "w0x w7x";
  const auto partial = router_client_->Search(query, 10);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_TRUE(partial.partial());
  ASSERT_EQ(partial.missing_shards_size(), 1);
  EXPECT_EQ(partial.missing_shards(0), "shard-1");
  EXPECT_GT(partial.hits_size(), 0);

  // Writes for the missing shard are accepted and kept for it.
  const auto more = MakeDocuments(90, 300, 4);
  const std::string handed_off = router_client_->Put(more);
  EXPECT_EQ(handed_off, "shard-1");
  reference_client_->Put(more);
  EXPECT_TRUE(router_client_->Search(query).partial());

  // Back on its port: the shard rebuilds its indexes, takes the handed-off
  // writes, and results are complete and equal to one index's again.
  RestartShard(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (router_client_->Search(query).partial() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(router_client_->DocumentCount(), 390);
  for (const std::string& q : MakeQueries(30, 5)) {
    const auto actual = router_client_->Search(q, 10);
    EXPECT_FALSE(actual.partial()) << q;
    ExpectSameResults(reference_client_->Search(q, 10), actual, q);
  }
}

TEST_F(ShardedServicesTest, ReplicasServeReadsWhileOneIsDown) {
  // One shard with two replicas.
  const std::string dir_a = TempDir("replicas/a");
  const std::string dir_b = TempDir("replicas/b");
  auto a = StartServer(dir_a, 0);
  auto b = StartServer(dir_b, 0);
  ASSERT_TRUE(a && b);
  const int port_a = a->port();
  auto router = StartServer(TempDir("replicas/router"), 0,
                            {absl::StrCat("only=", Target(*a), "|", Target(*b))});
  ASSERT_NE(router, nullptr);
  Client client(Target(*router));
  client.Put(MakeDocuments(50, 0, 6));
  EXPECT_EQ(Client(Target(*a)).DocumentCount(), 50);
  EXPECT_EQ(Client(Target(*b)).DocumentCount(), 50);

  a->Shutdown(absl::ZeroDuration());
  a->Wait();
  a.reset();
  auto found = client.Search("unique7token");
  EXPECT_FALSE(found.partial());  // The other replica answered.
  ASSERT_EQ(found.hits_size(), 1);
  EXPECT_EQ(found.hits(0).document_id(), "doc-7");
  // A write while replica a is down reaches b and is kept for a.
  EXPECT_EQ(client.Put(MakeDocuments(1, 50, 7)), "only");
  EXPECT_EQ(client.Search("unique50token").hits_size(), 1);

  a = StartServer(dir_a, port_a);
  ASSERT_NE(a, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Client(Target(*a)).DocumentCount() < 51 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Client(Target(*a)).DocumentCount(), 51);
  b->Shutdown(absl::ZeroDuration());
  b->Wait();
  b.reset();
  EXPECT_EQ(client.Search("unique50token").hits_size(), 1);  // From a, caught up.
}

TEST_F(ShardedServicesTest, AddingAShardMovesOnlyItsDocuments) {
  StartCluster(2);
  const auto documents = MakeDocuments(400, 0, 8);
  router_client_->Put(documents);

  // A third shard joins: the ring of three decides the owners now.
  shard_dirs_.push_back(TempDir("AddingAShardMovesOnlyItsDocuments/shard2"));
  shards_.push_back(StartServer(shard_dirs_.back(), 0));
  ASSERT_NE(shards_.back(), nullptr);
  std::vector<ShardSpec> specs;
  for (size_t i = 0; i < shards_.size(); ++i) {
    specs.push_back({absl::StrCat("shard-", i), {Target(*shards_[i])}});
  }
  ShardSetOptions options;
  options.hint_path = TempDir("AddingAShardMovesOnlyItsDocuments/rebalancer") + "/hints.db";
  options.hand_off = false;
  auto three = ShardSet::Create(specs, options);
  ASSERT_TRUE(three.ok()) << three.status();
  HashRing two_ring;
  ASSERT_TRUE(two_ring.AddShard("shard-0").ok());
  ASSERT_TRUE(two_ring.AddShard("shard-1").ok());
  int64_t expected_moves = 0;
  for (const auto& document : documents) {
    const std::string before = two_ring.Owner(document.id());
    const std::string after = (*three)->ring().Owner(document.id());
    if (before != after) {
      EXPECT_EQ(after, "shard-2");
      ++expected_moves;
    }
  }
  auto report = Rebalance(three->get(), {"default"});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->moved, expected_moves);
  EXPECT_GT(expected_moves, 400 / 3 / 2);
  // The new shard is listed last: the documents just moved there are seen again.
  EXPECT_EQ(report->documents, 400 + expected_moves);
  EXPECT_EQ(Client(Target(*shards_[2])).DocumentCount(), expected_moves);

  // Each shard now holds exactly the documents it owns; a second run moves none.
  for (size_t i = 0; i < shards_.size(); ++i) {
    grpc::ClientContext context;
    ingest::v1::ListDocumentsRequest list;
    list.set_collection("c");
    list.mutable_page()->set_page_size(1000);
    ingest::v1::ListDocumentsResponse page;
    ASSERT_TRUE(Client(Target(*shards_[i])).ingest()->ListDocuments(&context, list, &page).ok());
    for (const auto& document : page.documents()) {
      EXPECT_EQ((*three)->OwnerOf(document.id()), i) << document.id();
    }
  }
  auto again = Rebalance(three->get(), {"default"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->moved, 0);

  // A router over the three shards finds moved documents with their text.
  auto router = StartServer(TempDir("AddingAShardMovesOnlyItsDocuments/router3"), 0,
                            {Target(*shards_[0]), Target(*shards_[1]), Target(*shards_[2])});
  Client client(Target(*router));
  for (int i = 0; i < 400; i += 37) {
    const auto hits = client.Search(absl::StrCat("unique", i, "token"));
    ASSERT_EQ(hits.hits_size(), 1) << i;
    EXPECT_EQ(hits.hits(0).document_id(), absl::StrCat("doc-", i));
  }
}

TEST_F(ShardedServicesTest, HybridAndRerankedSearchesEqualOneIndex) {
  // Small random-weight encoders of real shapes: the same on every server.
  const std::string models = TempDir("HybridModels");
  ASSERT_TRUE(
      model::MakeRandomModel("bert", "tiny-bert", "safetensors", models + "/embedder", 4, "f32")
          .ok());
  ASSERT_TRUE(model::MakeRandomModel("bert-cross-encoder", "tiny-bert", "safetensors",
                                     models + "/reranker", 5, "f32")
                  .ok());
  ServerConfig with_models;
  with_models.embedder_model = models + "/embedder";
  with_models.reranker_model = models + "/reranker";
  std::vector<std::string> addresses;
  for (int i = 0; i < 2; ++i) {
    shards_.push_back(
        StartServer(TempDir(absl::StrCat("Hybrid/shard", i)), 0, {}, 2000, with_models));
    ASSERT_NE(shards_.back(), nullptr);
    addresses.push_back(Target(*shards_.back()));
  }
  reference_ = StartServer(TempDir("Hybrid/reference"), 0, {}, 2000, with_models);
  router_ = StartServer(TempDir("Hybrid/router"), 0, addresses);  // The router loads no model.
  ASSERT_TRUE(reference_ && router_);
  Client router(Target(*router_));
  Client reference(Target(*reference_));
  const auto documents = MakeDocuments(200, 0, 9, /*unique_lengths=*/true);
  int reranked = 0;
  router.Put(documents);
  reference.Put(documents);

  auto search = [](Client& client, const std::string& query, bool weighted, bool rerank) {
    grpc::ClientContext context;
    retrieval::v1::SearchRequest request;
    request.set_collection("c");
    request.set_query(query);
    request.set_mode(retrieval::v1::HYBRID);
    request.set_top_k(8);
    request.mutable_fusion()->set_candidates(40);
    if (weighted) request.mutable_fusion()->set_method(retrieval::v1::FusionConfig::WEIGHTED);
    request.mutable_rerank()->set_enabled(rerank);
    request.mutable_rerank()->set_top_n(12);
    retrieval::v1::SearchResponse response;
    grpc::Status status = client.retrieval()->Search(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  int compared = 0;
  for (const std::string& query : MakeQueries(12, 10)) {
    for (bool weighted : {false, true}) {
      const auto expected = search(reference, query, weighted, false);
      const auto actual = search(router, query, weighted, false);
      const std::string what = absl::StrCat(query, weighted ? " weighted" : " rrf");
      EXPECT_FALSE(actual.partial()) << what;
      ASSERT_EQ(actual.hits_size(), expected.hits_size()) << what;
      ASSERT_GT(expected.hits_size(), 0) << what;
      // RRF gives equal scores to hits at the same rank of different lists;
      // those come in id order, and ids differ between one index and the
      // merge: compare each list sorted by (score, chunk id).
      auto sorted = [](const retrieval::v1::SearchResponse& response) {
        std::vector<const retrieval::v1::SearchHit*> hits;
        for (const auto& hit : response.hits()) hits.push_back(&hit);
        std::stable_sort(hits.begin(), hits.end(), [](const auto* a, const auto* b) {
          if (std::abs(a->score() - b->score()) > 1e-5f * std::abs(b->score())) {
            return a->score() > b->score();
          }
          return a->chunk_id() < b->chunk_id();
        });
        return hits;
      };
      const auto a_hits = sorted(actual);
      const auto e_hits = sorted(expected);
      const float cutoff = expected.hits(expected.hits_size() - 1).score();
      for (size_t i = 0; i < a_hits.size(); ++i) {
        const auto& a = *a_hits[i];
        const auto& e = *e_hits[i];
        EXPECT_NEAR(a.score(), e.score(), 1e-5 * std::max(1.0f, std::abs(e.score())))
            << what << " rank " << i;
        // At the cut-off, a tie may have kept another of the tied hits.
        if (std::abs(e.score() - cutoff) <= 1e-5f * std::abs(cutoff)) continue;
        EXPECT_EQ(a.chunk_id(), e.chunk_id()) << what << " rank " << i;
        EXPECT_EQ(a.scores().bm25_rank(), e.scores().bm25_rank()) << what << " " << e.chunk_id();
        EXPECT_EQ(a.scores().dense_rank(), e.scores().dense_rank()) << what << " " << e.chunk_id();
        ++compared;
      }
    }
    // Reranked: the shards' cross-encoder scores equal one index's for the same
    // chunks, and the hits come in their order. (Which candidates are reranked
    // can differ where fused scores tie at the top_n boundary.)
    const auto expected = search(reference, query, false, true);
    const auto actual = search(router, query, false, true);
    std::map<std::string, float> expected_rerank;
    for (const auto& hit : expected.hits()) {
      if (hit.scores().has_rerank_score())
        expected_rerank[hit.chunk_id()] = hit.scores().rerank_score();
    }
    int shared = 0;
    for (int i = 0; i < actual.hits_size(); ++i) {
      const auto& hit = actual.hits(i);
      ASSERT_TRUE(hit.scores().has_rerank_score()) << query;
      EXPECT_EQ(hit.score(), hit.scores().rerank_score());
      if (i > 0) EXPECT_LE(hit.score(), actual.hits(i - 1).score()) << query;
      auto found = expected_rerank.find(hit.chunk_id());
      if (found == expected_rerank.end()) continue;
      ++shared;
      EXPECT_NEAR(hit.scores().rerank_score(), found->second, 1e-6)
          << query << " " << hit.chunk_id();
    }
    EXPECT_GE(shared, actual.hits_size() / 2) << query;
    reranked += shared;
  }
  EXPECT_GT(compared, 80);
  EXPECT_GT(reranked, 40);
}

TEST_F(ShardedServicesTest, BadInputGetsClearErrors) {
  StartCluster(2);
  grpc::ClientContext context;
  retrieval::v1::SearchRequest request;
  request.set_query("x");
  request.set_mode(retrieval::v1::BM25);
  retrieval::v1::SearchResponse response;
  grpc::Status status = router_client_->retrieval()->Search(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("collection"), std::string::npos);

  grpc::ClientContext missing_context;
  request.set_collection("nope");
  status = router_client_->retrieval()->Search(&missing_context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  // A document without an id (and no JSON record naming one) is refused here.
  grpc::ClientContext put_context;
  ingest::v1::PutDocumentRequest put;
  put.mutable_document()->set_collection("c");
  put.mutable_document()->set_text("no id");
  put.set_create_collection(true);
  ingest::v1::PutDocumentResponse put_response;
  status = router_client_->ingest()->PutDocument(&put_context, put, &put_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("document.id"), std::string::npos);

  // A JSON record is routed by the id inside it.
  grpc::ClientContext json_context;
  put.mutable_document()->clear_text();
  put.mutable_document()->set_format(common::v1::DOCUMENT_FORMAT_JSON);
  put.mutable_document()->set_content(R"({"_id": "j1", "title": "T", "text": "json body"})");
  status = router_client_->ingest()->PutDocument(&json_context, put, &put_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(put_response.id(), "j1");
  EXPECT_EQ(router_client_->Search("json body").hits(0).document_id(), "j1");

  EXPECT_FALSE(ParseShardSpecs({"a=x:1", "a=y:2"}).ok());
  EXPECT_FALSE(ParseShardSpecs({"x:1|"}).ok());
  auto specs = ParseShardSpecs({"x:1|x:2", "named=y:1"});
  ASSERT_TRUE(specs.ok());
  EXPECT_EQ((*specs)[0].name, "shard-0");
  EXPECT_EQ((*specs)[0].replicas.size(), 2u);
  EXPECT_EQ((*specs)[1].name, "named");
}

}  // namespace
}  // namespace tessera::retrieval::sharding
