// The all-in-one server: every Tessera gRPC service in one process on one port,
// with gRPC health checking and server reflection. The `tessera_server` binary and
// `tessera serve` both run this; tests start it in-process or as a subprocess.
#ifndef TESSERA_SERVICES_TESSERA_SERVER_H_
#define TESSERA_SERVICES_TESSERA_SERVER_H_

#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/http_server.h"
#include "services/server_config.h"

namespace tessera::services {

class TesseraServer {
 public:
  // Opens the data directory, builds every service and starts listening.
  static absl::StatusOr<std::unique_ptr<TesseraServer>> Start(const ServerConfig& config);
  ~TesseraServer();

  // The bound gRPC port (the chosen one when the config asked for port 0).
  int port() const { return port_; }
  // The bound HTTP port, or 0 when the config asked for none.
  int http_port() const { return http_ != nullptr ? http_->port() : 0; }

  // Marks the server NOT_SERVING, stops accepting calls and waits up to
  // `drain` for in-flight calls to finish, then cancels the rest.
  void Shutdown(absl::Duration drain);
  // Blocks until Shutdown() has completed.
  void Wait();

  // The full names of the services this server serves (ServerConfig::services),
  // in catalog order (common/service_catalog.h).
  const std::vector<std::string>& served_services() const { return served_; }

 private:
  struct Services;
  TesseraServer() = default;

  std::unique_ptr<Services> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpServer> http_;
  std::atomic<bool> serving_{false};
  std::vector<std::string> served_;
  int port_ = 0;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_TESSERA_SERVER_H_
