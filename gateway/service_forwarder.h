// Forwards every RPC of one public gRPC service to backend processes that serve
// it: a synchronous grpc::Service built from the service's descriptor whose
// handlers pass the request and response bytes through unparsed (unary, server
// streaming and client streaming RPCs). The backend call inherits the caller's
// deadline and is cancelled with the caller's call (ClientContext::
// FromServerContext); the caller's metadata (tenant, keys, traceparent) goes
// along and the backend's trailing metadata and status come back. Calls go to
// the backends in turn, skipping those the health checker has taken out (all
// of them when every one is out, rather than failing without trying).
#ifndef TESSERA_GATEWAY_SERVICE_FORWARDER_H_
#define TESSERA_GATEWAY_SERVICE_FORWARDER_H_

#include <grpcpp/channel.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics.h"
#include "gateway/health_checker.h"

namespace tessera::gateway {

struct ServiceBackend {
  std::string name;  // for health checks, logs and metrics: "<service>@host:port"
  std::shared_ptr<grpc::Channel> channel;
};

class ForwardingService : public grpc::Service {
 public:
  // `full_name` is a linked-in service's full name (NotFound otherwise);
  // `health` may be null (every backend counts as healthy). Bidirectional
  // streaming methods answer UNIMPLEMENTED (no public contract has one).
  static absl::StatusOr<std::unique_ptr<ForwardingService>> Create(
      const std::string& full_name, std::vector<ServiceBackend> backends,
      const HealthChecker* health, MetricsRegistry* metrics = &MetricsRegistry::Global());

  // The backend the next call goes to (round robin over healthy ones).
  const ServiceBackend& PickBackend();

  grpc::Status Unary(const std::string& method, grpc::ServerContext* context,
                     const grpc::ByteBuffer* request, grpc::ByteBuffer* response);
  grpc::Status ServerStreaming(const std::string& method, grpc::ServerContext* context,
                               const grpc::ByteBuffer* request,
                               grpc::ServerWriter<grpc::ByteBuffer>* writer);
  grpc::Status ClientStreaming(const std::string& method, grpc::ServerContext* context,
                               grpc::ServerReader<grpc::ByteBuffer>* reader,
                               grpc::ByteBuffer* response);

 private:
  ForwardingService(std::vector<ServiceBackend> backends, const HealthChecker* health,
                    MetricsRegistry* metrics);
  void Finish(const std::string& method, const ServiceBackend& backend,
              grpc::ClientContext& client, grpc::ServerContext* server, const grpc::Status& status);

  std::vector<ServiceBackend> backends_;
  const HealthChecker* health_;
  MetricsRegistry* metrics_;
  std::atomic<uint64_t> next_{0};
  std::vector<std::string> method_names_;  // RpcServiceMethod keeps pointers into these
};

// The client context for a call made on behalf of `server`: its deadline and
// cancellation, and the caller's metadata except transport and router-internal
// headers.
std::unique_ptr<grpc::ClientContext> ForwardedClientContext(const grpc::ServerContext& server);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_SERVICE_FORWARDER_H_
