// Router overhead: the same cheap RPC (IngestService.ListCollections) against
// two all-in-one servers on loopback, one with the router off (services served
// directly) and one with it on (API key verified, tenant set, rate limit
// checked, usage counted, the gated handler). Prints per-request latency
// p50/p99 for each, the router's overhead per request, and requests/s with
// concurrent clients. Bounded: a fixed number of calls per phase.
//   bazel run //bench:router_bench -- --requests=20000 --threads=4
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "gateway/api_keys.h"
#include "services/tessera_server.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"

ABSL_FLAG(int, requests, 20000, "calls per mode in the concurrent phase");
ABSL_FLAG(int, sequential, 5000, "calls per mode in the one-client latency phase");
ABSL_FLAG(int, threads, 4, "client threads in the concurrent phase");
ABSL_FLAG(bool, api_key, true,
          "routed mode authenticates an API key on every call (false: tenant by header only)");

namespace {

using Clock = std::chrono::steady_clock;
using tessera::ingest::v1::IngestService;

struct Server {
  std::string name;
  std::unique_ptr<tessera::services::TesseraServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::string key;  // empty: no authentication
};

struct Phase {
  std::vector<double> micros;
  double seconds = 0;
  int failures = 0;
};

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  size_t rank = static_cast<size_t>(q * (values.size() - 1));
  std::nth_element(values.begin(), values.begin() + rank, values.end());
  return values[rank];
}

std::unique_ptr<tessera::services::TesseraServer> StartServer(const std::string& data_dir,
                                                               bool router) {
  tessera::services::ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.data_dir = data_dir;
  config.router.enabled = router;
  if (router) {
    config.router.auth = absl::GetFlag(FLAGS_api_key) ? tessera::gateway::AuthMode::kRequired
                                                       : tessera::gateway::AuthMode::kOff;
    // Limits checked on every call, never reached.
    config.router.default_limits.requests_per_minute = 1e9;
  }
  auto server = tessera::services::TesseraServer::Start(config);
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the %s server: %s\n", router ? "routed" : "direct",
                 server.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*server);
}

Phase Run(const Server& server, int threads, int requests) {
  Phase phase;
  std::vector<std::vector<double>> per_thread(threads);
  std::atomic<int> failures{0};
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto stub = IngestService::NewStub(server.channel);
      for (int i = t; i < requests; i += threads) {
        grpc::ClientContext context;
        if (!server.key.empty()) context.AddMetadata("authorization", "Bearer " + server.key);
        tessera::ingest::v1::ListCollectionsResponse response;
        const Clock::time_point call = Clock::now();
        grpc::Status status = stub->ListCollections(&context, {}, &response);
        per_thread[t].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - call).count());
        if (!status.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  phase.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& values : per_thread) phase.micros.insert(phase.micros.end(), values.begin(), values.end());
  phase.failures = failures.load();
  return phase;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  tessera::InitLogging("warn");
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/router_bench.", getpid());
  std::filesystem::remove_all(base);

  Server direct{"direct"}, routed{"routed"};
  direct.server = StartServer(base + "/direct", false);
  {
    // A key issued before the server starts, as an operator would with `tessera keys`.
    std::filesystem::create_directories(base + "/routed");
    auto keys = tessera::gateway::ApiKeyStore::Open(base + "/routed/gateway.db");
    if (!keys.ok()) return 1;
    auto created = (*keys)->Create("bench", tessera::gateway::ApiKeyRole::kUser, "bench");
    if (!created.ok()) return 1;
    if (absl::GetFlag(FLAGS_api_key)) routed.key = created->plaintext;
  }
  routed.server = StartServer(base + "/routed", true);
  for (Server* server : {&direct, &routed}) {
    server->channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->server->port()),
                                          grpc::InsecureChannelCredentials());
    Run(*server, 1, 500);  // warm up connections, caches and the key check
  }

  const int sequential = absl::GetFlag(FLAGS_sequential);
  const int requests = absl::GetFlag(FLAGS_requests);
  const int threads = absl::GetFlag(FLAGS_threads);
  std::printf("router_bench: IngestService.ListCollections over loopback gRPC; %d calls from 1 "
              "client, then %d calls from %d clients, per mode\n",
              sequential, requests, threads);
  std::printf("%-8s %10s %10s %12s %10s %10s %12s\n", "mode", "p50 us", "p99 us", "1-client/s",
              "p50 us", "p99 us", "req/s");
  // The modes take turns in short rounds, so load from elsewhere on the host
  // falls on both alike.
  constexpr int kRounds = 10;
  Phase results[2][2];
  for (int round = 0; round < kRounds; ++round) {
    for (int mode = 0; mode < 2; ++mode) {
      const Server& server = mode == 0 ? direct : routed;
      for (int phase = 0; phase < 2; ++phase) {
        Phase part = phase == 0 ? Run(server, 1, sequential / kRounds)
                                : Run(server, threads, requests / kRounds);
        Phase& total = results[mode][phase];
        total.micros.insert(total.micros.end(), part.micros.begin(), part.micros.end());
        total.seconds += part.seconds;
        total.failures += part.failures;
      }
    }
  }
  for (int mode = 0; mode < 2; ++mode) {
    const Phase& one = results[mode][0];
    const Phase& many = results[mode][1];
    const char* name = mode == 0 ? "direct" : "routed";
    if (one.failures + many.failures > 0) {
      std::fprintf(stderr, "%s: %d failed calls\n", name, one.failures + many.failures);
      return 1;
    }
    std::printf("%-8s %10.1f %10.1f %12.0f %10.1f %10.1f %12.0f\n", name,
                Percentile(one.micros, 0.5), Percentile(one.micros, 0.99),
                one.micros.size() / one.seconds, Percentile(many.micros, 0.5),
                Percentile(many.micros, 0.99), many.micros.size() / many.seconds);
  }
  std::printf("router overhead per request (1 client): p50 %+.1f us, p99 %+.1f us\n",
              Percentile(results[1][0].micros, 0.5) - Percentile(results[0][0].micros, 0.5),
              Percentile(results[1][0].micros, 0.99) - Percentile(results[0][0].micros, 0.99));
  std::printf("router overhead per request (%d clients): p50 %+.1f us, p99 %+.1f us; "
              "throughput %.1f%% of direct\n",
              threads, Percentile(results[1][1].micros, 0.5) - Percentile(results[0][1].micros, 0.5),
              Percentile(results[1][1].micros, 0.99) - Percentile(results[0][1].micros, 0.99),
              100.0 * results[0][1].seconds / results[1][1].seconds);
  direct.server->Shutdown(absl::Seconds(1));
  routed.server->Shutdown(absl::Seconds(1));
  direct.server.reset();
  routed.server.reset();
  std::filesystem::remove_all(base);
  return 0;
}
