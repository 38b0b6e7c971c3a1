// One Tessera service per process: the same server as `tessera_server`, serving
// only the services of this binary (TESSERA_SERVICES, set per binary in BUILD),
// with gRPC health, reflection, metrics and a graceful drain on SIGTERM.
// --services and a config file's "services" may name others.
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/serve.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(absl::StrCat(
      TESSERA_BINARY, ": serves Tessera's ", TESSERA_SERVICES, " service(s).\n  ", TESSERA_BINARY,
      " --port=N --data_dir=DIR [--config=FILE] [--retrieval_shards=A,B,...]"));
  absl::ParseCommandLine(argc, argv);
  return tessera::services::RunServeWith(absl::StrSplit(TESSERA_SERVICES, ','));
}
