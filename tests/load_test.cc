// Bounded load over loopback (< 60 s): the open-loop generator of
// //bench:load_generator against the real server binary with a random tiny
// generator and max_inflight_requests 8.
//  1. A modest rate of search, generate and agent runs: no errors.
//  2. A rate far above capacity: the excess is refused with RESOURCE_EXHAUSTED
//     quickly (no timeouts, no other errors), and accepted calls still finish.
//  3. The server's RSS stays bounded over the run.
#include <filesystem>
#include <fstream>

#include "bench/load_generator.h"
#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tests/server_process.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

namespace tessera {
namespace {

constexpr int kMaxInflight = 8;

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing::MakeTempDir("load_test");
    ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", dir + "/tiny.gguf", 1, "q8_0").ok());
    std::ofstream(dir + "/config.json") << "{\"max_inflight_requests\": " << kMaxInflight << "}\n";
    server_ = std::make_unique<testing::ServerProcess>(
        dir + "/data", std::vector<std::string>{"--generator_model=" + dir + "/tiny.gguf",
                                                "--config=" + dir + "/config.json"});
    ASSERT_TRUE(server_->Start().ok());
    // A small corpus to search.
    auto ingest = ingest::v1::IngestService::NewStub(
        grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
    ingest::v1::BatchPutDocumentsRequest batch;
    batch.set_collection("load");
    batch.set_create_collection(true);
    const char* topics[] = {"heart inflammation", "vitamin d and bone density", "gene expression in tumour cells",
                            "antibiotic resistance", "exercise and blood pressure", "insulin resistance"};
    for (int i = 0; i < 300; ++i) {
      auto* doc = batch.add_documents();
      doc->set_id("d" + std::to_string(i));
      doc->set_text(std::string("A study of ") + topics[i % 6] + " in cohort " + std::to_string(i) +
                    ", with outcomes measured over " + std::to_string(i % 12 + 1) + " years.");
    }
    grpc::ClientContext context;
    ingest::v1::BatchPutDocumentsResponse response;
    ASSERT_TRUE(ingest->BatchPutDocuments(&context, batch, &response).ok());
    options_.target = server_->target();
    options_.server_pid = server_->pid();
    options_.collection = "load";
    options_.rss_interval = absl::Milliseconds(500);
    options_.deadline = absl::Seconds(10);
    ASSERT_TRUE(bench::PrepareServer(options_).ok());
  }

  std::unique_ptr<testing::ServerProcess> server_;
  bench::LoadOptions options_;
};

TEST_F(LoadTest, ModestRateHasNoErrorsAndOverloadIsRefusedQuickly) {
  // 1. Modest.
  options_.phases = {{"modest", 20, absl::Seconds(8)}};
  auto modest = bench::RunLoad(options_);
  ASSERT_TRUE(modest.ok()) << modest.status();
  std::printf("%s\n", bench::FormatMarkdown(*modest).c_str());
  for (const auto& [kind, report] : modest->phases[0].kinds) {
    EXPECT_GT(report.sent, 0) << kind;
    EXPECT_EQ(report.ok, report.sent) << kind << ": errors at a modest rate";
    EXPECT_TRUE(report.errors.empty()) << kind;
  }

  // 2. Overload: far more generate calls than 2 cores can serve.
  options_.phases = {{"overload", 600, absl::Seconds(6)}};
  options_.mix = {{"search", 40}, {"generate", 60}};
  options_.max_tokens = 48;
  auto overload = bench::RunLoad(options_);
  ASSERT_TRUE(overload.ok()) << overload.status();
  std::printf("%s\n", bench::FormatMarkdown(*overload).c_str());
  int64_t rejected = 0, ok = 0;
  double rejected_p99 = 0;
  for (const auto& [kind, report] : overload->phases[0].kinds) {
    ok += report.ok;
    for (const auto& [code, n] : report.errors) {
      if (code == "RESOURCE_EXHAUSTED") {
        rejected += n;
      } else {
        ADD_FAILURE() << kind << ": " << n << " x " << code << " under overload (expected only RESOURCE_EXHAUSTED)";
      }
    }
    rejected_p99 = std::max(rejected_p99, report.rejected_p99_ms);
  }
  EXPECT_GT(rejected, 0) << "overload was never refused";
  EXPECT_GT(ok, 0) << "nothing was served under overload";
  // Refusals come at once, not after queueing (generous for a shared 2-core box).
  EXPECT_LT(rejected_p99, 1000) << "refusals are slow: queued before being refused";

  // 3. RSS: bounded growth from the end of the modest phase to the end.
  ASSERT_FALSE(modest->rss.empty());
  ASSERT_FALSE(overload->rss.empty());
  int64_t peak = 0;
  for (const auto& sample : overload->rss) peak = std::max(peak, sample.rss_kb);
  const int64_t base = modest->rss.back().rss_kb;
  std::printf("RSS: %.1f MiB after the modest phase, peak %.1f MiB under overload, %.1f MiB at the end\n",
              base / 1024.0, peak / 1024.0, overload->rss.back().rss_kb / 1024.0);
  EXPECT_LT(peak - base, 256 * 1024) << "RSS grew by more than 256 MiB under overload";
}

}  // namespace
}  // namespace tessera
