// The router's admission decision for one call, independent of the transport:
// who the caller is (an API key mapped to its tenant and role), whether the
// tenant is within its request rate and budget, and the request counted for
// usage. gRPC glue (grpc_gate.h) applies it to every public RPC.
#ifndef TESSERA_GATEWAY_REQUEST_GATE_H_
#define TESSERA_GATEWAY_REQUEST_GATE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "gateway/api_keys.h"
#include "gateway/clock.h"
#include "gateway/rate_limiter.h"
#include "gateway/router_config.h"
#include "gateway/usage_ledger.h"

namespace tessera::gateway {

// What the caller sent that identifies it.
struct CallerCredentials {
  std::string authorization;  // "Bearer <key>"
  std::string api_key;        // x-api-key
  std::string tenant;         // x-tessera-tenant, the tenant the caller asks to act for
};

struct Admission {
  // OK, or the status the call is refused with (UNAUTHENTICATED,
  // PERMISSION_DENIED, RESOURCE_EXHAUSTED).
  absl::Status status;
  std::string tenant;
  std::string key_id;  // empty without a key
  bool admin = false;
  // For RESOURCE_EXHAUSTED: when the same call would pass.
  absl::Duration retry_after = absl::ZeroDuration();
};

class RequestGate {
 public:
  // `keys` may be null only with AuthMode::kOff; `usage` may be null.
  RequestGate(AuthMode mode, ApiKeyStore* keys, RateLimiter* limiter, UsageLedger* usage,
              const Clock* clock = Clock::Real(),
              MetricsRegistry* metrics = &MetricsRegistry::Global());

  // Authenticates, checks the tenant's limits and counts the request.
  Admission Admit(absl::string_view method, const CallerCredentials& credentials);

  // Whether calls need a key now (kAuto: once the key store has an active key;
  // looked up at most every few seconds).
  bool AuthRequired();

 private:
  absl::StatusOr<ApiKeyInfo> VerifyKey(const std::string& key);
  void Count(const char* outcome, absl::string_view tenant);

  const AuthMode mode_;
  ApiKeyStore* keys_;
  RateLimiter* limiter_;
  UsageLedger* usage_;
  const Clock* clock_;
  MetricsRegistry* metrics_;

  absl::Mutex mu_;
  bool required_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time required_checked_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Recently verified keys (by SHA-256 of the key), so a hot key costs one
  // hash instead of a database read; a revocation takes effect within the TTL.
  struct VerifiedKey {
    ApiKeyInfo info;
    absl::Time expires;
  };
  absl::flat_hash_map<std::string, VerifiedKey> verified_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_REQUEST_GATE_H_
