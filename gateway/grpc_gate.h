// The router's front door on a gRPC server: every call of every wrapped
// service is admitted by a RequestGate before its handler runs.
//
// Two parts, because gRPC's server interceptors may rewrite a call's metadata
// but cannot refuse it, and handlers may refuse but not rewrite:
//  - the interceptor (install it on the public server) authenticates the
//    caller and replaces the caller-supplied identity headers
//    (x-tessera-tenant, x-tessera-key-id, x-tessera-role) with the
//    authenticated ones, so services read the tenant as before (TenantOf);
//  - Wrap(service) returns the service with each method's handler preceded by
//    a check of that decision: refused calls get their status (with a
//    retry-after trailer for RESOURCE_EXHAUSTED) and never reach the service.
// The decision travels in a header carrying a per-process secret, so a caller
// cannot forge it; a wrapped service without the interceptor refuses every
// call (fails closed). Health checking and reflection stay open.
#ifndef TESSERA_GATEWAY_GRPC_GATE_H_
#define TESSERA_GATEWAY_GRPC_GATE_H_

#include <grpcpp/impl/service_type.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/request_gate.h"

namespace tessera::gateway {

inline constexpr char kKeyIdHeader[] = "x-tessera-key-id";
// "admin" or "user".
inline constexpr char kRoleHeader[] = "x-tessera-role";

// Whether the caller of this (admitted) call may act for every tenant.
bool CallerIsAdmin(const grpc::ServerContextBase& context);

class GrpcGate {
 public:
  explicit GrpcGate(RequestGate* gate);

  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  // `service` (a synchronous service, owned by the caller; it must outlive the
  // result) behind the gate. `full_name` is the generated service's
  // service_full_name(); NotFound when no such service is linked in.
  // `raw_requests`: the service's handlers take grpc::ByteBuffer requests (a
  // ForwardingService) rather than generated messages.
  absl::StatusOr<std::unique_ptr<grpc::Service>> Wrap(grpc::Service* service,
                                                      const std::string& full_name,
                                                      bool raw_requests = false);

  template <typename GeneratedService>
  absl::StatusOr<std::unique_ptr<grpc::Service>> Wrap(typename GeneratedService::Service* service) {
    return Wrap(service, GeneratedService::service_full_name());
  }

 private:
  RequestGate* gate_;
  const std::string secret_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_GRPC_GATE_H_
