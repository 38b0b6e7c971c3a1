#include "gateway/health_checker.h"

#include <curl/curl.h>
#include <grpcpp/client_context.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace tessera::gateway {
namespace {

constexpr char kHealthyGauge[] = "tessera_gateway_backend_healthy";
constexpr char kProbes[] = "tessera_gateway_health_probes_total";

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

std::string HealthUrl(const std::string& base_url, const std::string& health_path) {
  if (absl::StartsWith(health_path, "http://") || absl::StartsWith(health_path, "https://")) {
    return health_path;
  }
  const size_t scheme_end = base_url.find("://");
  const size_t origin_end =
      scheme_end == std::string::npos ? std::string::npos : base_url.find('/', scheme_end + 3);
  const std::string origin = base_url.substr(0, origin_end);
  return absl::StartsWith(health_path, "/") ? origin + health_path : origin + "/" + health_path;
}

HealthChecker::HealthChecker(HealthCheckConfig config, MetricsRegistry* metrics)
    : config_(config), metrics_(metrics) {
  if (metrics_ != nullptr) {
    metrics_->Describe(kHealthyGauge, "1 while a backend passes its active health checks, else 0.");
    metrics_->Describe(kProbes, "Active health probes by backend and outcome.");
  }
}

HealthChecker::~HealthChecker() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::AddGrpc(const std::string& name, std::shared_ptr<grpc::Channel> channel,
                            const std::string& service) {
  absl::MutexLock lock(&mu_);
  Target& target = targets_[name];
  target.channel = std::move(channel);
  target.service = service;
  if (metrics_ != nullptr) metrics_->SetGauge(kHealthyGauge, {{"backend", name}}, 1);
}

void HealthChecker::AddHttp(const std::string& name, const std::string& url) {
  absl::MutexLock lock(&mu_);
  targets_[name].url = url;
  if (metrics_ != nullptr) metrics_->SetGauge(kHealthyGauge, {{"backend", name}}, 1);
}

bool HealthChecker::empty() const {
  absl::MutexLock lock(&mu_);
  return targets_.empty();
}

void HealthChecker::Start() {
  if (thread_.joinable() || empty()) return;
  thread_ = std::thread([this] {
    while (true) {
      ProbeAll();
      absl::MutexLock lock(&mu_);
      // Wakes early only to stop.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), config_.interval);
      if (stopping_) return;
    }
  });
}

absl::Status HealthChecker::Probe(const Target& target) const {
  if (target.channel != nullptr) {
    auto stub = grpc::health::v1::Health::NewStub(target.channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + config_.timeout));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(target.service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, request, &response);
    if (!status.ok()) {
      return absl::UnavailableError(absl::StrCat("health check: ", status.error_message()));
    }
    if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::UnavailableError(absl::StrCat(
          "health check: ", grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                                response.status())));
    }
    return absl::OkStatus();
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_easy_setopt(curl, CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(config_.timeout)));
  CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("GET ", target.url, ": ", curl_easy_strerror(code)));
  }
  if (http_status < 200 || http_status >= 300) {
    return absl::UnavailableError(absl::StrCat("GET ", target.url, ": HTTP ", http_status));
  }
  return absl::OkStatus();
}

void HealthChecker::ProbeAll() {
  std::vector<std::pair<std::string, Target>> snapshot;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, target] : targets_) snapshot.emplace_back(name, target);
  }
  // Probes run without the lock: a slow backend must not block IsHealthy.
  for (const auto& [name, target] : snapshot) Record(name, Probe(target));
}

void HealthChecker::Record(const std::string& name, const absl::Status& outcome) {
  if (metrics_ != nullptr) {
    metrics_->IncrementCounter(kProbes, {{"backend", name}, {"outcome", outcome.ok() ? "pass" : "fail"}});
  }
  absl::MutexLock lock(&mu_);
  auto it = targets_.find(name);
  if (it == targets_.end()) return;
  Target& target = it->second;
  const bool was_healthy = target.healthy;
  if (outcome.ok()) {
    ++target.passes_in_row;
    target.failures_in_row = 0;
    if (!target.healthy && target.passes_in_row >= config_.healthy_threshold) target.healthy = true;
  } else {
    ++target.failures_in_row;
    target.passes_in_row = 0;
    target.last_error = std::string(outcome.message());
    if (target.healthy && target.failures_in_row >= config_.unhealthy_threshold) {
      target.healthy = false;
    }
  }
  if (target.healthy != was_healthy) {
    spdlog::warn("{}", DumpJson({{"event", "backend_health"},
                                 {"backend", name},
                                 {"healthy", target.healthy},
                                 {"error", target.healthy ? "" : target.last_error}}));
    if (metrics_ != nullptr) {
      metrics_->SetGauge(kHealthyGauge, {{"backend", name}}, target.healthy ? 1 : 0);
    }
  }
}

bool HealthChecker::IsHealthy(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = targets_.find(name);
  return it == targets_.end() || it->second.healthy;
}

}  // namespace tessera::gateway
