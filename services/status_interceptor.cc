#include "services/status_interceptor.h"

#include <string>

namespace tessera::services {
namespace {

class StatusMessageInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit StatusMessageInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (status.error_message().empty()) {
        if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
          methods->ModifySendStatus(
              grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                           method_ + " is not implemented in this build of Tessera yet"));
        } else if (status.error_code() == grpc::StatusCode::INTERNAL) {
          methods->ModifySendStatus(grpc::Status(
              grpc::StatusCode::INVALID_ARGUMENT,
              method_ + ": the request is not a valid message for this method (string "
                        "fields must be valid UTF-8; send raw bytes in `bytes` fields)"));
        }
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
};

}  // namespace

grpc::experimental::Interceptor* StatusMessageInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new StatusMessageInterceptor(info->method() != nullptr ? info->method() : "");
}

}  // namespace tessera::services
