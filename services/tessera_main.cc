// The `tessera` command-line tool. Its commands are called by operators' scripts
// and outside tools (see ../shared/INTERFACES.md): keep their names and flags.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "absl/time/time.h"
#include "common/logging.h"
#include "engine/model/make_random.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "services/admin_client.h"
#include "services/eval_command.h"
#include "services/ingest_command.h"
#include "services/keys_command.h"
#include "services/serve.h"
#include "services/tls_credentials.h"

ABSL_DECLARE_FLAG(std::string, generator_model);  // serve.cc; eval run's embedded server.

ABSL_FLAG(std::string, target, "",
          "HOST:PORT of a running Tessera server (health, services: default localhost:50051; "
          "ingest: default embedded on --data_dir)");
ABSL_FLAG(std::string, collection, "", "ingest: the collection to ingest into");
ABSL_FLAG(std::string, tokenizer, "",
          "tokenize: tokenizer.model, tokenizer.json, vocab.txt, tokenizer.bin or a model dir");
ABSL_FLAG(std::string, text, "", "tokenize: the text to encode");
ABSL_FLAG(std::string, corpus, "", "eval retrieval: BEIR corpus.jsonl");
ABSL_FLAG(std::string, queries, "", "eval retrieval: BEIR queries.jsonl");
ABSL_FLAG(std::string, qrels, "", "eval retrieval: BEIR qrels .tsv");
ABSL_FLAG(std::vector<std::string>, modes, std::vector<std::string>({"bm25", "dense", "hybrid", "hybrid_rerank"}),
          "eval retrieval: comma-separated modes");
ABSL_FLAG(bool, json, false, "eval retrieval: one JSON object per line and mode; eval run: the job as JSON");
ABSL_FLAG(std::string, chunking, "", "ingest, eval: none, fixed or recursive (default recursive)");
ABSL_FLAG(int, max_tokens, 0, "ingest, eval: chunk size in tokens (default 256)");
ABSL_FLAG(std::string, arch, "", "model make-random: bert, bert-cross-encoder or llama");
ABSL_FLAG(std::string, shape, "", "model make-random: a named shape (minilm-l6, tinyllama-1.1b, ...)");
ABSL_FLAG(std::string, format, "safetensors", "model make-random: safetensors or gguf");
ABSL_FLAG(std::string, out, "", "model make-random: where to write (directory or GGUF file)");
ABSL_FLAG(std::string, dtype, "", "model make-random: f32 (default), f16, bf16, q8_0, q4_0");
ABSL_FLAG(uint64_t, seed, 1, "model make-random: random seed (same seed, same bytes)");
ABSL_FLAG(bool, progress, true, "ingest, eval run: draw a progress bar when stderr is a terminal");
ABSL_FLAG(std::string, service, "", "health: the service to check (empty = the whole server)");
ABSL_FLAG(double, timeout_seconds, 5, "deadline of a client call");
ABSL_FLAG(std::string, tls_ca, "",
          "with --target: PEM CA certificate(s) the server's certificate must chain to "
          "(turns on TLS; without it but with --tls_cert, the system roots)");
ABSL_FLAG(std::string, tls_cert, "", "with --target: PEM client certificate for mutual TLS");
ABSL_FLAG(std::string, tls_key, "", "with --target: PEM private key of --tls_cert");

namespace {

constexpr char kUsage[] =
    "usage: tessera <command> [flags]\n"
    "commands:\n"
    "  serve     --port=N --data_dir=DIR [--http_port=M] [--config=FILE]  run the server\n"
    "  health    --target=HOST:PORT [--service=NAME]   prints SERVING or NOT_SERVING\n"
    "  services  --target=HOST:PORT                    lists services through reflection\n"
    "  ingest    --data_dir=DIR | --target=HOST:PORT  --collection=NAME PATH...\n"
    "            ingest files, directories or JSONL/BEIR corpora\n"
    "  tokenize  --tokenizer=PATH --text=TEXT          prints the token ids\n"
    "  model make-random --arch=bert|llama --shape=NAME --format=safetensors|gguf|llama2c --out=PATH\n"
    "            writes a random-weight model of a real shape; prints the path\n"
    "  keys create|list|revoke --data_dir=DIR [--tenant=T] [--role=user|admin] [--key_id=ID]\n"
    "            API keys for the router (hashed in DIR/gateway.db; create prints the key once)\n"
    "  eval retrieval --corpus=F --queries=F --qrels=F [--modes=bm25,dense,hybrid,hybrid_rerank]\n"
    "            [--json] [--target=HOST:PORT --collection=NAME]  BEIR retrieval evaluation\n"
    "  eval run JOB.yaml|JOB.json [--target=HOST:PORT | --data_dir=DIR] [--json]\n"
    "            an evaluation job (judges, RAG metrics) with a progress bar; rerun to resume\n"
    "  eval compare BASE/report.json CANDIDATE/report.json\n"
    "            paired bootstrap comparison of two runs; exit 1 on a significant regression\n"
    "Run 'tessera <command> --help' for the flags.";

int Fail(const std::string& message) {
  std::fprintf(stderr, "tessera: %s\n", message.c_str());
  return 1;
}

absl::Duration Timeout() { return absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds)); }

std::string Target() {
  const std::string target = absl::GetFlag(FLAGS_target);
  return target.empty() ? "localhost:50051" : target;
}

std::vector<std::string> g_positional;

// --chunking / --max_tokens as a ChunkingConfig (unset = the collection's default).
absl::StatusOr<tessera::ingest::v1::ChunkingConfig> ChunkingFromFlags() {
  tessera::ingest::v1::ChunkingConfig config;
  const std::string strategy = absl::GetFlag(FLAGS_chunking);
  if (strategy == "none") {
    config.set_strategy(tessera::ingest::v1::ChunkingConfig::NONE);
  } else if (strategy == "fixed") {
    config.set_strategy(tessera::ingest::v1::ChunkingConfig::FIXED_TOKENS);
  } else if (strategy == "recursive") {
    config.set_strategy(tessera::ingest::v1::ChunkingConfig::RECURSIVE);
  } else if (!strategy.empty()) {
    return absl::InvalidArgumentError("--chunking must be none, fixed or recursive");
  }
  if (absl::GetFlag(FLAGS_max_tokens) > 0) {
    if (strategy.empty()) config.set_strategy(tessera::ingest::v1::ChunkingConfig::RECURSIVE);
    config.set_max_tokens(absl::GetFlag(FLAGS_max_tokens));
  }
  return config;
}

int Keys() { return tessera::services::RunKeysCommand(g_positional); }

int Model() {
  if (g_positional.size() != 1 || g_positional[0] != "make-random") {
    return Fail("usage: tessera model make-random --arch=bert|llama --shape=NAME "
                "--format=safetensors|gguf|llama2c --out=PATH");
  }
  if (absl::GetFlag(FLAGS_arch).empty() || absl::GetFlag(FLAGS_shape).empty() ||
      absl::GetFlag(FLAGS_out).empty()) {
    return Fail("model make-random: --arch, --shape and --out are required");
  }
  auto path = tessera::model::MakeRandomModel(
      absl::GetFlag(FLAGS_arch), absl::GetFlag(FLAGS_shape), absl::GetFlag(FLAGS_format),
      absl::GetFlag(FLAGS_out), absl::GetFlag(FLAGS_seed), absl::GetFlag(FLAGS_dtype));
  if (!path.ok()) return Fail("model make-random: " + std::string(path.status().message()));
  std::printf("%s\n", path->c_str());
  return 0;
}

int EvalRun() {
  if (g_positional.size() != 2) {
    return Fail("usage: tessera eval run JOB.yaml|JOB.json [--target=HOST:PORT | --data_dir=DIR] [--json]");
  }
  tessera::services::EvalRunOptions options;
  options.job_file = g_positional[1];
  options.target = absl::GetFlag(FLAGS_target);
  if (!absl::GetFlag(FLAGS_data_dir).empty()) options.embedded.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.embedded.models_dir = absl::GetFlag(FLAGS_models_dir);
  options.embedded.embedder_model = absl::GetFlag(FLAGS_embedder_model);
  options.embedded.reranker_model = absl::GetFlag(FLAGS_reranker_model);
  options.embedded.generator_model = absl::GetFlag(FLAGS_generator_model);
  if (absl::GetFlag(FLAGS_progress) && isatty(fileno(stderr))) options.progress = stderr;
  auto job = tessera::services::RunEvalJob(options);
  if (!job.ok()) return Fail("eval run: " + std::string(job.status().message()));
  if (absl::GetFlag(FLAGS_json)) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(*job, &json, print);
    std::printf("%s\n", json.c_str());
  } else {
    std::printf("%s", tessera::services::FormatEvalJob(*job).c_str());
  }
  return job->state() == tessera::eval::v1::SUCCEEDED ? 0 : 1;
}

int EvalCompare() {
  if (g_positional.size() != 3) {
    return Fail("usage: tessera eval compare BASE/report.json CANDIDATE/report.json");
  }
  auto comparison = tessera::services::CompareEvalReports(g_positional[1], g_positional[2]);
  if (!comparison.ok()) return Fail("eval compare: " + std::string(comparison.status().message()));
  std::printf("%s", comparison->markdown.c_str());
  return comparison->regression ? 1 : 0;
}

int Eval() {
  if (!g_positional.empty() && g_positional[0] == "run") return EvalRun();
  if (!g_positional.empty() && g_positional[0] == "compare") return EvalCompare();
  if (g_positional.size() != 1 || g_positional[0] != "retrieval") {
    return Fail("usage: tessera eval retrieval --corpus=F --queries=F --qrels=F [--json]");
  }
  auto chunking = ChunkingFromFlags();
  if (!chunking.ok()) return Fail(std::string(chunking.status().message()));
  tessera::services::RetrievalEvalOptions options;
  options.corpus = absl::GetFlag(FLAGS_corpus);
  options.queries = absl::GetFlag(FLAGS_queries);
  options.qrels = absl::GetFlag(FLAGS_qrels);
  options.modes = absl::GetFlag(FLAGS_modes);
  options.target = absl::GetFlag(FLAGS_target);
  options.collection = absl::GetFlag(FLAGS_collection);
  options.chunking = *chunking;
  options.models_dir = absl::GetFlag(FLAGS_models_dir);
  options.embedder_model = absl::GetFlag(FLAGS_embedder_model);
  options.reranker_model = absl::GetFlag(FLAGS_reranker_model);
  auto lines = tessera::services::RunRetrievalEval(options);
  if (!lines.ok()) return Fail("eval retrieval: " + std::string(lines.status().message()));
  const bool json = absl::GetFlag(FLAGS_json);
  if (!json) {
    std::printf("%-14s %8s %9s %11s %8s %9s\n", "mode", "queries", "nDCG@10", "Recall@100",
                "MRR@10", "qps");
  }
  for (const std::string& line : *lines) {
    if (json) {
      std::printf("%s\n", line.c_str());
      continue;
    }
    auto row = nlohmann::json::parse(line);
    if (row.contains("skipped")) {
      std::printf("%-14s skipped: %s\n", row["mode"].get<std::string>().c_str(),
                  row["skipped"].get<std::string>().c_str());
    } else {
      std::printf("%-14s %8d %9.4f %11.4f %8.4f %9.1f\n", row["mode"].get<std::string>().c_str(),
                  row["queries"].get<int>(), row["ndcg@10"].get<double>(),
                  row["recall@100"].get<double>(), row["mrr@10"].get<double>(),
                  row["qps"].get<double>());
    }
  }
  return 0;
}

int Tokenize() {
  if (absl::GetFlag(FLAGS_tokenizer).empty()) return Fail("tokenize: --tokenizer=PATH is required");
  auto ids = tessera::tokenizer::TokenizeToString(absl::GetFlag(FLAGS_tokenizer),
                                                  absl::GetFlag(FLAGS_text));
  if (!ids.ok()) return Fail("tokenize: " + std::string(ids.status().message()));
  std::printf("%s\n", ids->c_str());
  return 0;
}

int Ingest() {
  tessera::services::IngestOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.collection = absl::GetFlag(FLAGS_collection);
  options.paths = g_positional;
  auto chunking = ChunkingFromFlags();
  if (!chunking.ok()) return Fail(std::string(chunking.status().message()));
  options.chunking = *chunking;
  if (absl::GetFlag(FLAGS_progress) && isatty(fileno(stderr))) options.progress = stderr;
  auto summary = tessera::services::RunIngest(options);
  if (!summary.ok()) return Fail(std::string(summary.status().message()));
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < summary->errors.size() && i < kShown; ++i) {
    std::fprintf(stderr, "failed: %s\n", summary->errors[i].c_str());
  }
  if (summary->failed > static_cast<int64_t>(kShown)) {
    std::fprintf(stderr, "... and %lld more failures\n",
                 static_cast<long long>(summary->failed - kShown));
  }
  std::printf("%s\n", tessera::services::FormatSummary(*summary).c_str());
  return summary->failed == 0 ? 0 : 1;
}

int Health() {
  auto status = tessera::services::CheckHealth(Target(),
                                               absl::GetFlag(FLAGS_service), Timeout());
  if (!status.ok()) {
    std::printf("NOT_SERVING\n");
    return Fail(std::string(status.status().message()));
  }
  std::printf("%s\n", status->c_str());
  return *status == "SERVING" ? 0 : 1;
}

int Services() {
  auto names = tessera::services::ListServices(Target(), Timeout());
  if (!names.ok()) return Fail(std::string(names.status().message()));
  for (const std::string& name : *names) std::printf("%s\n", name.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2) absl::ParseCommandLine(argc, argv);  // handles --help
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  const std::string command = argv[1];
  // Parse the flags after the command as if the command were the program.
  std::vector<char*> args = {argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  positional.erase(positional.begin());

  const std::map<std::string, int (*)()> commands = {
      {"serve", &tessera::services::RunServe},
      {"health", &Health},
      {"services", &Services},
      {"ingest", &Ingest},
      {"tokenize", &Tokenize},
      {"eval", &Eval},
      {"model", &Model},
      {"keys", &Keys},
  };
  // serve sets up its own logging; other commands keep stdout for their output.
  if (command != "serve") tessera::InitLogging("warn");
  auto it = commands.find(command);
  if (it == commands.end()) {
    return Fail("unknown command \"" + command + "\"\n" + kUsage);
  }
  // Only some commands take positional arguments.
  if (command == "ingest" || command == "eval" || command == "model" || command == "keys") {
    g_positional.assign(positional.begin(), positional.end());
  } else if (!positional.empty()) {
    return Fail("unexpected argument \"" + std::string(positional[0]) + "\" for " + command);
  }
  absl::Status tls = tessera::services::SetClientTls({absl::GetFlag(FLAGS_tls_ca),
                                                      absl::GetFlag(FLAGS_tls_cert),
                                                      absl::GetFlag(FLAGS_tls_key)});
  if (!tls.ok()) return Fail(std::string(tls.message()));
  return it->second();
}
