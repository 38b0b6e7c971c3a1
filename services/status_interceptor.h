// Gives gRPC's silent error statuses a message a caller can act on:
//  - UNIMPLEMENTED with no message (the generated base class of a service or
//    method this build does not implement yet) names the method;
//  - INTERNAL with no message is what gRPC answers when the request bytes do not
//    parse as the method's message (for example a proto3 string field holding
//    invalid UTF-8); that is the caller's error, so it becomes INVALID_ARGUMENT.
// Handlers in Tessera always give their errors a message, so an empty one can only
// come from gRPC itself.
#ifndef TESSERA_SERVICES_STATUS_INTERCEPTOR_H_
#define TESSERA_SERVICES_STATUS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

namespace tessera::services {

class StatusMessageInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_STATUS_INTERCEPTOR_H_
