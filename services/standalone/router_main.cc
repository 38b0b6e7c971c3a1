// router: the entry point of a multi-process deployment. Serves the gateway and
// the public ingest and retrieval APIs over the retrieval shards named by
// --retrieval_shards (documents spread by consistent hashing, searches fanned
// out with a deadline and merged), with health, reflection, metrics and a
// graceful drain on SIGTERM.
//
// With --rebalance it instead moves every document to the shard that owns it
// under the current shard list (after shards were added) and exits.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/logging.h"
#include "retrieval/sharding/rebalance.h"
#include "retrieval/sharding/shard_set.h"
#include "services/serve.h"
#include "services/tls_credentials.h"

ABSL_FLAG(bool, rebalance, false,
          "move documents to the shards that own them under --retrieval_shards, then exit");
ABSL_FLAG(std::vector<std::string>, tenants, {"default"},
          "tenants whose collections --rebalance moves");

namespace {

const std::vector<std::string> kRouterServices = {"gateway", "ingest", "retrieval"};

int RunRebalance() {
  using namespace tessera::retrieval::sharding;
  auto config = tessera::services::ServerConfigFromFlags(kRouterServices);
  if (!config.ok()) {
    std::fprintf(stderr, "router: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  tessera::InitLogging(config->log_level);
  auto specs = ParseShardSpecs(config->retrieval_shards);
  if (!specs.ok() || specs->empty()) {
    std::fprintf(
        stderr, "router --rebalance: %s\n",
        specs.ok() ? "give --retrieval_shards" : std::string(specs.status().message()).c_str());
    return 2;
  }
  ShardSetOptions options;
  options.hint_path = config->data_dir + "/rebalance_hints.db";
  options.hand_off = false;  // A shard that is down stops the rebalance.
  auto credentials = tessera::services::MakeChannelCredentials(
      {config->backend_tls_ca_file, config->backend_tls_cert_file, config->backend_tls_key_file});
  if (!credentials.ok()) {
    std::fprintf(stderr, "router --rebalance: %s\n", credentials.status().ToString().c_str());
    return 2;
  }
  options.credentials = *credentials;
  std::error_code ignored;
  std::filesystem::create_directories(config->data_dir, ignored);
  auto shards = ShardSet::Create(std::move(*specs), options);
  if (!shards.ok()) {
    std::fprintf(stderr, "router --rebalance: %s\n", shards.status().ToString().c_str());
    return 1;
  }
  auto report = Rebalance(shards->get(), absl::GetFlag(FLAGS_tenants));
  if (!report.ok()) {
    std::fprintf(stderr, "router --rebalance: %s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf("rebalanced %lld collections: %lld documents examined, %lld moved\n",
              static_cast<long long>(report->collections),
              static_cast<long long>(report->documents), static_cast<long long>(report->moved));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "router: the gateway plus sharded ingest and retrieval.\n"
      "  router --port=N --data_dir=DIR --retrieval_shards=[name=]host:port[|replica],...\n"
      "  router --rebalance --retrieval_shards=... [--tenants=a,b]");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_rebalance)) return RunRebalance();
  return tessera::services::RunServeWith(kRouterServices);
}
