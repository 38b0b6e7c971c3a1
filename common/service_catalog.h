// The gRPC services a Tessera process can serve, in one table: the config
// parser and flags read the short names, the server registers them in this
// order under their full names, and the router forwards the ones marked
// forwardable to other processes.
#ifndef TESSERA_COMMON_SERVICE_CATALOG_H_
#define TESSERA_COMMON_SERVICE_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tessera {

struct ServiceInfo {
  // The name in configs and flags ("ingest").
  std::string name;
  // The gRPC full name ("tessera.ingest.v1.IngestService").
  std::string full_name;
  // Whether the router may send the whole service to other processes. The
  // generation and gateway services are the router's own: models are routed
  // per request instead.
  bool forwardable = false;
};

// Every service, in serving order.
absl::Span<const ServiceInfo> TesseraServices();

// The service with short name `name`, or null.
const ServiceInfo* FindService(absl::string_view name);

// OK when every name is a service's short name; otherwise INVALID_ARGUMENT
// naming the first unknown one, where it came from (`source`, e.g. "--services")
// and the accepted names.
absl::Status CheckServiceNames(absl::Span<const std::string> names, absl::string_view source);

// The short names of every service, or of the forwardable ones only.
std::vector<std::string> ServiceNames();
std::vector<std::string> ForwardableServiceNames();

}  // namespace tessera

#endif  // TESSERA_COMMON_SERVICE_CATALOG_H_
