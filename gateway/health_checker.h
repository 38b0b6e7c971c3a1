// Active health checks: probes each registered backend on an interval (gRPC
// backends with grpc.health.v1 Check, HTTP backends with a GET that must answer
// 2xx) and keeps a healthy/unhealthy verdict with hysteresis, so a stopped
// backend leaves rotation after a few failed probes and returns once it passes
// again. Verdicts are exported as the gauge tessera_gateway_backend_healthy.
// Thread-safe.
#ifndef TESSERA_GATEWAY_HEALTH_CHECKER_H_
#define TESSERA_GATEWAY_HEALTH_CHECKER_H_

#include <grpcpp/channel.h>

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "gateway/router_config.h"

namespace tessera::gateway {

class HealthChecker {
 public:
  explicit HealthChecker(HealthCheckConfig config,
                         MetricsRegistry* metrics = &MetricsRegistry::Global());
  // Stops the probing thread.
  ~HealthChecker();

  // Registers a backend before Start(); backends start healthy. `service` is
  // the grpc.health.v1 service name asked for ("" = the whole server).
  void AddGrpc(const std::string& name, std::shared_ptr<grpc::Channel> channel,
               const std::string& service = "");
  void AddHttp(const std::string& name, const std::string& url);

  // Probes every backend each interval on a background thread.
  void Start();

  // Probes every backend once, now (tests; also run by the thread).
  void ProbeAll();

  // Unknown names are healthy (not probed, nothing known against them).
  bool IsHealthy(const std::string& name) const;
  bool empty() const;

 private:
  struct Target {
    std::shared_ptr<grpc::Channel> channel;  // gRPC; null for HTTP
    std::string service;
    std::string url;  // HTTP
    bool healthy = true;
    int passes_in_row = 0;
    int failures_in_row = 0;
    std::string last_error;
  };
  absl::Status Probe(const Target& target) const;
  void Record(const std::string& name, const absl::Status& outcome);

  const HealthCheckConfig config_;
  MetricsRegistry* metrics_;
  mutable absl::Mutex mu_;
  std::map<std::string, Target> targets_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The URL a backend's health_path names: a full URL as it is, a path joined to
// the origin (scheme://host:port) of `base_url`.
std::string HealthUrl(const std::string& base_url, const std::string& health_path);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_HEALTH_CHECKER_H_
