#include "services/ingest_command.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "ingest/parse/parse.h"
#include "services/tessera_server.h"
#include "services/tls_credentials.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"

namespace tessera::services {
namespace {

namespace fs = std::filesystem;
using common::v1::Document;
using Clock = std::chrono::steady_clock;

// One input file and the id prefix its documents get.
struct InputFile {
  fs::path path;
  std::string id;  // path relative to the argument it came from
  uint64_t size = 0;
};

absl::StatusOr<std::vector<InputFile>> CollectFiles(const std::vector<std::string>& paths) {
  std::vector<InputFile> files;
  for (const std::string& argument : paths) {
    fs::path root(argument);
    std::error_code error;
    if (fs::is_regular_file(root, error)) {
      files.push_back({root, root.filename().string(), fs::file_size(root, error)});
      continue;
    }
    if (!fs::is_directory(root, error)) {
      return absl::NotFoundError(absl::StrCat(argument, ": no such file or directory"));
    }
    std::vector<InputFile> found;
    for (auto it = fs::recursive_directory_iterator(root, error);
         it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (error) return absl::UnavailableError(absl::StrCat(argument, ": ", error.message()));
      const std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {  // hidden files and directories
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      found.push_back({it->path(), fs::relative(it->path(), root).string(), it->file_size()});
    }
    std::sort(found.begin(), found.end(),
              [](const InputFile& a, const InputFile& b) { return a.id < b.id; });
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

class ProgressBar {
 public:
  ProgressBar(FILE* out, uint64_t total_bytes) : out_(out), total_(total_bytes) {}

  void Update(int64_t documents, uint64_t bytes, bool final = false) {
    if (out_ == nullptr) return;
    auto now = Clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    double fraction = total_ > 0 ? std::min(1.0, static_cast<double>(bytes) / total_) : 1.0;
    constexpr int kWidth = 30;
    int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '=');
    if (filled < kWidth) bar += '>' + std::string(kWidth - filled - 1, ' ');
    double rate = seconds > 0 ? bytes / seconds : 0;
    double eta = rate > 0 ? (total_ - std::min<uint64_t>(bytes, total_)) / rate : 0;
    absl::FPrintF(out_, "\r[%s] %3.0f%% %d docs  %.0f docs/s  %.1f MB/s  ETA %.0fs   ", bar,
                  fraction * 100, documents, seconds > 0 ? documents / seconds : 0.0, rate / 1e6,
                  eta);
    if (final) absl::FPrintF(out_, "\n");
    std::fflush(out_);
  }

 private:
  FILE* out_;
  uint64_t total_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_;
};

}  // namespace

std::string FormatSummary(const IngestSummary& summary) {
  double seconds = std::max(summary.seconds, 1e-9);
  return absl::StrFormat("ingested %d documents (%d failed) in %.1f s: %.0f docs/s, %.1f MB/s",
                         summary.succeeded, summary.failed, summary.seconds,
                         summary.succeeded / seconds, summary.bytes / seconds / 1e6);
}

absl::StatusOr<IngestSummary> RunIngest(const IngestOptions& options) {
  if (options.collection.empty()) return absl::InvalidArgumentError("--collection is required");
  if (options.paths.empty()) return absl::InvalidArgumentError("give at least one PATH to ingest");
  auto files = CollectFiles(options.paths);
  if (!files.ok()) return files.status();

  std::unique_ptr<TesseraServer> embedded;
  std::string target = options.target;
  if (target.empty()) {
    if (options.data_dir.empty()) {
      return absl::InvalidArgumentError("give --data_dir (embedded) or --target=HOST:PORT");
    }
    ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.data_dir = options.data_dir;
    auto server = TesseraServer::Start(config);
    if (!server.ok()) return server.status();
    embedded = std::move(*server);
    target = absl::StrCat("127.0.0.1:", embedded->port());
  }

  grpc::ChannelArguments arguments;
  arguments.SetMaxSendMessageSize(96 << 20);
  auto stub = ingest::v1::IngestService::NewStub(
      grpc::CreateCustomChannel(target, ClientChannelCredentials(), arguments));
  grpc::ClientContext context;
  ingest::v1::StreamIngestResponse response;
  auto writer = stub->StreamIngest(&context, &response);

  uint64_t total_bytes = 0;
  for (const InputFile& file : *files) total_bytes += file.size;
  ProgressBar progress(options.progress, total_bytes);
  IngestSummary summary;
  const auto start = Clock::now();

  ingest::v1::StreamIngestRequest message;
  message.set_collection(options.collection);
  message.set_create_collection(true);
  *message.mutable_chunking() = options.chunking;
  size_t message_bytes = 0;
  bool stream_ok = true;
  auto send = [&]() {
    if (message.documents_size() == 0 && !message.has_chunking()) return;
    stream_ok = stream_ok && writer->Write(message);
    message.Clear();
    message_bytes = 0;
  };
  auto add = [&](Document document) {
    message_bytes += document.content().size();
    *message.add_documents() = std::move(document);
    ++summary.documents;
    if (message.documents_size() >= options.batch_documents || message_bytes >= (8u << 20)) {
      send();
    }
  };

  for (const InputFile& file : *files) {
    if (!stream_ok) break;
    const std::string uri = file.path.string();
    if (ingest::IsJsonLinesFileName(file.path.filename().string())) {
      std::ifstream in(file.path, std::ios::binary);
      if (!in) return absl::NotFoundError(absl::StrCat(uri, ": cannot read"));
      std::string line;
      for (int line_number = 1; std::getline(in, line) && stream_ok; ++line_number) {
        summary.bytes += line.size() + 1;
        if (absl::StripAsciiWhitespace(line).empty()) continue;
        Document document;
        document.set_format(common::v1::DOCUMENT_FORMAT_JSON);
        document.set_content(std::move(line));
        document.set_source_uri(absl::StrCat(uri, ":", line_number));
        add(std::move(document));
        progress.Update(summary.documents, summary.bytes);
      }
    } else {
      std::ifstream in(file.path, std::ios::binary);
      if (!in) return absl::NotFoundError(absl::StrCat(uri, ": cannot read"));
      std::stringstream bytes;
      bytes << in.rdbuf();
      Document document;
      document.set_id(file.id);
      document.set_title(file.path.filename().string());
      document.set_content(bytes.str());
      document.set_format(ingest::GuessFormat(file.path.filename().string(), document.content()));
      document.set_source_uri(uri);
      summary.bytes += file.size;
      add(std::move(document));
      progress.Update(summary.documents, summary.bytes);
    }
  }
  send();
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  progress.Update(summary.documents, summary.bytes, /*final=*/true);
  if (embedded != nullptr) embedded->Shutdown(absl::Seconds(30));
  if (!status.ok()) {
    absl::Status converted = FromGrpcStatus(status);
    return absl::Status(converted.code(), absl::StrCat("ingest into ", target, " failed: ",
                                                       converted.message()));
  }
  summary.succeeded = response.succeeded();
  summary.failed = response.failed();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& error : response.errors()) {
    if (summary.errors.size() >= 100) break;
    summary.errors.push_back(absl::StrCat(error.id().empty() ? "(no id)" : error.id(), ": ",
                                          error.error()));
  }
  return summary;
}

}  // namespace tessera::services
