// Bounds the calls a gRPC server handles at once. gRPC's synchronous server
// runs each call on a thread of its own; with the thread quota capped, a call
// that finds no thread free is answered RESOURCE_EXHAUSTED at once by gRPC
// itself (before any handler runs) instead of waiting in an unbounded queue.
// The interceptor turns gRPC's bare "Server Threadpool Exhausted" into a
// message that names the limit, with retry-after / retry-after-ms trailers as
// the router's rate limits send them.
#ifndef TESSERA_SERVICES_INFLIGHT_LIMIT_H_
#define TESSERA_SERVICES_INFLIGHT_LIMIT_H_

#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>

namespace tessera::services {

// At most `max_inflight_requests` calls (streams included) run at once on the
// server `builder` builds; 0 = unbounded.
void LimitInflightRequests(int max_inflight_requests, grpc::ServerBuilder* builder);

class InflightLimitInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit InflightLimitInterceptorFactory(int max_inflight_requests)
      : max_inflight_requests_(max_inflight_requests) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const int max_inflight_requests_;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_INFLIGHT_LIMIT_H_
