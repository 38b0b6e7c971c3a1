// Counts every gRPC call by method and status code and records its latency in
// the process metrics registry (served at /metrics).
#ifndef TESSERA_SERVICES_METRICS_INTERCEPTOR_H_
#define TESSERA_SERVICES_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

namespace tessera::services {

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory();
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_METRICS_INTERCEPTOR_H_
