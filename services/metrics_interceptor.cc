#include "services/metrics_interceptor.h"

#include <atomic>
#include <chrono>
#include <string>

#include "common/metrics.h"

namespace tessera::services {
namespace {

constexpr char kCalls[] = "tessera_grpc_server_handled_total";
constexpr char kLatency[] = "tessera_grpc_server_handling_seconds";
// Calls received and not finished: the queue an autoscaler watches.
constexpr char kInFlight[] = "tessera_grpc_server_in_flight";

std::atomic<int64_t> in_flight{0};

// gRPC's canonical code names, indexed by code.
constexpr const char* kCodeNames[] = {
    "OK",        "CANCELLED",          "UNKNOWN",          "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",   "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",      "DATA_LOSS",
    "UNAUTHENTICATED"};

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(std::string method)
      : method_(std::move(method)), start_(std::chrono::steady_clock::now()) {
    MetricsRegistry::Global().SetGauge(kInFlight, {}, static_cast<double>(++in_flight));
  }
  // Runs when the call is over, however it ended (cancelled calls send no status).
  ~MetricsInterceptor() override {
    MetricsRegistry::Global().SetGauge(kInFlight, {}, static_cast<double>(--in_flight));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = methods->GetSendStatus().error_code();
      const char* name = code >= 0 && code <= 16 ? kCodeNames[code] : "UNKNOWN";
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      MetricsRegistry& registry = MetricsRegistry::Global();
      registry.IncrementCounter(kCalls, {{"code", name}, {"method", method_}});
      registry.ObserveSeconds(kLatency, {{"method", method_}}, seconds);
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

MetricsInterceptorFactory::MetricsInterceptorFactory() {
  MetricsRegistry::Global().Describe(kCalls, "gRPC calls completed, by method and status code.");
  MetricsRegistry::Global().Describe(kLatency, "gRPC call latency in seconds, by method.");
  MetricsRegistry::Global().Describe(kInFlight, "gRPC calls in progress.");
}

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new MetricsInterceptor(info->method() != nullptr ? info->method() : "");
}

}  // namespace tessera::services
