// Client-side calls for operating a server: health checks and listing services
// through server reflection. Used by the `tessera` CLI and by tests. Channels use
// ClientChannelCredentials() (tls_credentials.h): plaintext unless SetClientTls.
#ifndef TESSERA_SERVICES_ADMIN_CLIENT_H_
#define TESSERA_SERVICES_ADMIN_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tessera::services {

// The grpc.health.v1 status of `service` ("" = the whole server) at `target`
// (HOST:PORT): "SERVING", "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN".
absl::StatusOr<std::string> CheckHealth(const std::string& target, const std::string& service,
                                        absl::Duration timeout);

// The fully-qualified service names that `target` lists through reflection.
absl::StatusOr<std::vector<std::string>> ListServices(const std::string& target,
                                                      absl::Duration timeout);

// The names of the proto files (with dependencies) that define `symbol`, through
// reflection: proves the server can describe its contracts to generic clients.
absl::StatusOr<std::vector<std::string>> DescribeSymbol(const std::string& target,
                                                        const std::string& symbol,
                                                        absl::Duration timeout);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_ADMIN_CLIENT_H_
