// `tessera serve` / `tessera_server`: configuration from --config and flags, the
// server started, SIGTERM/SIGINT handled with a graceful drain.
#ifndef TESSERA_SERVICES_SERVE_H_
#define TESSERA_SERVICES_SERVE_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "services/server_config.h"

// Shared with other commands of the CLI (ingest uses the data directory).
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::string, models_dir);
ABSL_DECLARE_FLAG(std::string, embedder_model);
ABSL_DECLARE_FLAG(std::string, reranker_model);

namespace tessera::services {

// The server configuration from --config (if given) with the serve flags on top;
// `default_services` when neither names the services to serve.
absl::StatusOr<ServerConfig> ServerConfigFromFlags(
    const std::vector<std::string>& default_services = {});

// Runs the server until SIGTERM or SIGINT, then drains. Returns the exit code.
// Call before any other thread starts: it blocks the signals process-wide.
int RunServe();
// The same for the per-service binaries: they serve `default_services` unless
// --services or the config file names others.
int RunServeWith(const std::vector<std::string>& default_services);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_SERVE_H_
