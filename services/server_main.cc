// tessera_server: the all-in-one server (the same as `tessera serve`).
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "services/serve.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Tessera all-in-one server.\n  tessera_server --port=N --data_dir=DIR [--config=FILE]");
  absl::ParseCommandLine(argc, argv);
  return tessera::services::RunServe();
}
