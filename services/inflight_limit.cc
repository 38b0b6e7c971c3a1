#include "services/inflight_limit.h"

#include <grpcpp/resource_quota.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace tessera::services {
namespace {

// What gRPC's synchronous server answers when its thread quota is spent.
constexpr char kThreadpoolExhausted[] = "Server Threadpool Exhausted";

class InflightLimitInterceptor : public grpc::experimental::Interceptor {
 public:
  InflightLimitInterceptor(int limit, std::string method) : limit_(limit), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
          status.error_message() == kThreadpoolExhausted) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            absl::StrCat(method_, ": the server is handling its limit of ", limit_,
                         " calls at once (max_inflight_requests); retry after 1 s")));
        if (auto* trailers = methods->GetSendTrailingMetadata()) {
          trailers->emplace("retry-after", "1");
          trailers->emplace("retry-after-ms", "1000");
        }
      }
    }
    methods->Proceed();
  }

 private:
  const int limit_;
  const std::string method_;
};

}  // namespace

void LimitInflightRequests(int max_inflight_requests, grpc::ServerBuilder* builder) {
  if (max_inflight_requests <= 0) return;
  grpc::ResourceQuota quota("tessera-inflight");
  // The synchronous server keeps one thread polling for new calls (num_cqs 1,
  // min_pollers 1); a call that would take that last thread is refused.
  quota.SetMaxThreads(max_inflight_requests + 1);
  builder->SetResourceQuota(quota);
}

grpc::experimental::Interceptor* InflightLimitInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  if (max_inflight_requests_ <= 0) return nullptr;
  return new InflightLimitInterceptor(max_inflight_requests_, info->method() != nullptr ? info->method() : "");
}

}  // namespace tessera::services
