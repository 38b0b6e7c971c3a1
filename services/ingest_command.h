// `tessera ingest`: pushes files, directories (recursively) and JSONL corpora into
// a collection through tessera.ingest.v1.StreamIngest — of a running server
// (--target) or of an embedded one started in this process on --data_dir.
// File bytes travel as they are; the server parses every format, so all clients
// get the same parsing.
#ifndef TESSERA_SERVICES_INGEST_COMMAND_H_
#define TESSERA_SERVICES_INGEST_COMMAND_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/ingest/v1/ingest.pb.h"

namespace tessera::services {

struct IngestOptions {
  // HOST:PORT of a running server; empty = embedded on data_dir.
  std::string target;
  std::string data_dir;
  std::string collection;
  std::vector<std::string> paths;
  ingest::v1::ChunkingConfig chunking;
  // Draw a progress bar on `progress` (a terminal); nullptr = no progress.
  FILE* progress = nullptr;
  // Documents per streamed message.
  int batch_documents = 128;
};

struct IngestSummary {
  int64_t documents = 0;  // sent
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t bytes = 0;
  double seconds = 0;
  std::vector<std::string> errors;  // "id: message", at most 100
};

absl::StatusOr<IngestSummary> RunIngest(const IngestOptions& options);

// The one-line summary the command prints, e.g.
// "ingested 5183 documents (0 failed) in 4.1 s: 1264 docs/s, 1.8 MB/s".
std::string FormatSummary(const IngestSummary& summary);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_INGEST_COMMAND_H_
