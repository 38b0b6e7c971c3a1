// The local multi-process cluster (deploy/local/cluster.sh: router, 3 retrieval
// shards, ingest tier, generation, agents, eval — each its own process) against
// one all-in-one server: BEIR SciFact is ingested into both (the cluster through
// its ingest tier, then through the router), BM25 searches for
// SciFact train queries through the router must equal the single server's; a
// stalled shard (SIGSTOP) and a killed one (SIGKILL) give partial results,
// flagged, within the deadline; documents ingested while the shard is down are
// handed off, and after a restart the shard catches up and results are equal
// (and complete) again.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/shared_data.h"
#include "gtest/gtest.h"
#include "retrieval/beir.h"
#include "retrieval/sharding/search_comparison.h"
#include "services/ingest_command.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;
using retrieval::v1::SearchResponse;

constexpr int kQueries = 100;
constexpr int kLateDocuments = 200;  // ingested while a shard is down

class Cluster {
 public:
  explicit Cluster(std::string dir) : dir_(std::move(dir)) {}
  ~Cluster() {
    if (started_) Run("stop");
  }

  int Run(const std::string& arguments) {
    const std::string command = absl::StrCat(
        "bash ", RunfilePath("deploy/local/cluster.sh"), " ", arguments, " --dir ", dir_,
        " --bin_dir ",
        std::filesystem::path(RunfilePath("services/standalone/router")).parent_path().string(),
        " --shard_timeout_ms 2000 >> ", dir_, ".out 2>&1");
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  absl::Status Start() {
    if (Run("start") != 0)
      return absl::InternalError(absl::StrCat("cluster.sh start failed; see ", dir_, ".out"));
    started_ = true;
    return ReadEnv();
  }
  int Stop() {
    started_ = false;
    return Run("stop");
  }

  absl::Status ReadEnv() {
    std::ifstream in(dir_ + "/cluster.env");
    if (!in) return absl::NotFoundError("no cluster.env");
    std::string line;
    while (std::getline(in, line)) {
      std::pair<std::string, std::string> entry = absl::StrSplit(line, absl::MaxSplits('=', 1));
      env_[entry.first] = entry.second;
    }
    return absl::OkStatus();
  }
  std::string Get(const std::string& key) { return env_[key]; }
  pid_t Pid(const std::string& key) { return std::atoi(env_["PID_" + key].c_str()); }

 private:
  std::string dir_;
  bool started_ = false;
  std::map<std::string, std::string> env_;
};

SearchResponse Search(retrieval::v1::RetrievalService::Stub* stub, const std::string& query,
                      int timeout_ms = 0) {
  grpc::ClientContext context;
  retrieval::v1::SearchRequest request;
  request.set_collection("scifact");
  request.set_query(query);
  request.set_mode(retrieval::v1::BM25);
  request.set_top_k(10);
  request.set_timeout_ms(timeout_ms);
  SearchResponse response;
  grpc::Status status = stub->Search(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

// Writes lines [begin, end) of `from` to `to`.
void CopyLines(const std::string& from, const std::string& to, int begin, int end) {
  std::ifstream in(from);
  std::ofstream out(to);
  std::string line;
  for (int i = 0; std::getline(in, line) && i < end; ++i) {
    if (i >= begin) out << line << "\n";
  }
}

int CountLines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) lines += !line.empty();
  return lines;
}

services::IngestSummary Ingest(const std::string& target, const std::string& path) {
  services::IngestOptions options;
  options.target = target;
  options.collection = "scifact";
  options.paths = {path};
  auto summary = services::RunIngest(options);
  EXPECT_TRUE(summary.ok()) << summary.status();
  return summary.ok() ? *summary : services::IngestSummary();
}

TEST(ClusterTest, ShardedSearchEqualsOneServerThroughShardFailures) {
  auto corpus = FindSharedFile("data/scifact/corpus.jsonl");
  auto queries_file = FindSharedFile("data/scifact/queries.train.jsonl");
  if (!corpus || !queries_file) {
    GTEST_SKIP() << "../shared/data/scifact (corpus.jsonl, queries.train.jsonl) not found "
                    "(set TESSERA_SHARED_DIR)";
  }
  auto queries = retrieval::LoadBeirQueries(*queries_file);
  ASSERT_TRUE(queries.ok()) << queries.status();
  ASSERT_GE(queries->size(), static_cast<size_t>(kQueries));
  queries->resize(kQueries);

  // The whole corpus but the last documents first; those come while a shard is down.
  const std::string work = testing::MakeTempDir("cluster_test");
  const int total = CountLines(*corpus);
  ASSERT_GT(total, kLateDocuments);
  CopyLines(*corpus, work + "/early.jsonl", 0, total - kLateDocuments);
  CopyLines(*corpus, work + "/late.jsonl", total - kLateDocuments, total);

  Cluster cluster(work + "/cluster");
  const auto start = Clock::now();
  ASSERT_TRUE(cluster.Start().ok());
  std::printf("cluster started in %.1f s: router %s, shards %s %s %s\n",
              std::chrono::duration<double>(Clock::now() - start).count(),
              cluster.Get("ROUTER").c_str(), cluster.Get("SHARD_0").c_str(),
              cluster.Get("SHARD_1").c_str(), cluster.Get("SHARD_2").c_str());
  testing::ServerProcess reference(work + "/reference");
  ASSERT_TRUE(reference.Start().ok());

  // Both ingest at once: the cluster through its ingest tier, which spreads
  // documents over the shards as the router does.
  services::IngestSummary routed;
  services::IngestSummary single;
  {
    std::thread other([&] { single = Ingest(reference.target(), work + "/early.jsonl"); });
    routed = Ingest(cluster.Get("INGEST"), work + "/early.jsonl");
    other.join();
  }
  ASSERT_EQ(routed.succeeded, total - kLateDocuments);
  ASSERT_EQ(single.succeeded, total - kLateDocuments);
  std::printf("ingested %lld documents: through the ingest tier %.1f s, into one server %.1f s\n",
              static_cast<long long>(routed.succeeded), routed.seconds, single.seconds);

  auto router = retrieval::v1::RetrievalService::NewStub(
      grpc::CreateChannel(cluster.Get("ROUTER"), grpc::InsecureChannelCredentials()));
  auto one = retrieval::v1::RetrievalService::NewStub(
      grpc::CreateChannel(reference.target(), grpc::InsecureChannelCredentials()));
  auto compare_all = [&](const std::string& phase) {
    double routed_ms = 0;
    double single_ms = 0;
    for (const retrieval::BeirQuery& query : *queries) {
      auto before = Clock::now();
      const SearchResponse actual = Search(router.get(), query.text);
      routed_ms += std::chrono::duration<double, std::milli>(Clock::now() - before).count();
      before = Clock::now();
      const SearchResponse expected = Search(one.get(), query.text);
      single_ms += std::chrono::duration<double, std::milli>(Clock::now() - before).count();
      EXPECT_FALSE(actual.partial()) << phase << " " << query.id;
      retrieval::sharding::ExpectSameResults(expected, actual, phase + " query " + query.id);
    }
    std::printf("%s: %d queries equal; %.2f ms per sharded search, %.2f ms on one server\n",
                phase.c_str(), kQueries, routed_ms / kQueries, single_ms / kQueries);
  };
  compare_all("after ingest");
  const std::string probe = (*queries)[0].text;

  // A stalled shard (SIGSTOP): the search answers within its deadline, flagged.
  const pid_t shard1 = cluster.Pid("SHARD_1");
  ASSERT_GT(shard1, 0);
  ASSERT_EQ(kill(shard1, SIGSTOP), 0);
  auto before = Clock::now();
  SearchResponse stalled = Search(router.get(), probe, /*timeout_ms=*/500);
  const double stalled_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - before).count();
  kill(shard1, SIGCONT);
  EXPECT_TRUE(stalled.partial());
  ASSERT_EQ(stalled.missing_shards_size(), 1);
  EXPECT_EQ(stalled.missing_shards(0), "shard-1");
  EXPECT_EQ(stalled.hits_size(), 10);
  // The stalled shard is given up at the end of the statistics phase (half
  // the deadline); the others answer the search itself.
  EXPECT_GE(stalled_ms, 240);
  EXPECT_LT(stalled_ms, 900);
  std::printf("stalled shard: partial answer in %.0f ms (deadline 500 ms)\n", stalled_ms);

  // A killed shard (SIGKILL): partial at once.
  ASSERT_EQ(cluster.Run("kill-shard 1"), 0);
  before = Clock::now();
  SearchResponse down = Search(router.get(), probe, 500);
  const double down_ms = std::chrono::duration<double, std::milli>(Clock::now() - before).count();
  EXPECT_TRUE(down.partial());
  ASSERT_EQ(down.missing_shards_size(), 1);
  EXPECT_EQ(down.missing_shards(0), "shard-1");
  EXPECT_EQ(down.hits_size(), 10);
  EXPECT_LT(down_ms, 600);
  std::printf("killed shard: partial answer in %.0f ms\n", down_ms);

  // Writes while it is down are accepted (handed off for shard-1).
  routed = Ingest(cluster.Get("ROUTER"), work + "/late.jsonl");
  single = Ingest(reference.target(), work + "/late.jsonl");
  EXPECT_EQ(routed.succeeded, kLateDocuments);
  EXPECT_EQ(routed.failed, 0);
  EXPECT_TRUE(Search(router.get(), probe).partial());

  // Restarted on its port and data: it rebuilds its indexes from its store,
  // takes the handed-off writes, and the router's answers are whole again.
  before = Clock::now();
  ASSERT_EQ(cluster.Run("start-shard 1"), 0);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Search(router.get(), probe).partial() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("shard-1 restarted and caught up in %.1f s\n",
              std::chrono::duration<double>(Clock::now() - before).count());
  compare_all("after catch-up");

  // SIGTERM drains every process; none had to be killed.
  EXPECT_EQ(cluster.Stop(), 0);
  EXPECT_EQ(reference.Terminate(), 0);
}

}  // namespace
}  // namespace tessera
