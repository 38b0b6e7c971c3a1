#include "gateway/request_gate.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace tessera::gateway {
namespace {

constexpr char kRequests[] = "tessera_gateway_requests_total";
// How long a verified key and the "keys required" answer are trusted.
constexpr absl::Duration kKeyCacheTtl = absl::Seconds(5);
constexpr size_t kMaxCachedKeys = 10000;

std::string PresentedKey(const CallerCredentials& credentials) {
  absl::string_view authorization = absl::StripAsciiWhitespace(credentials.authorization);
  if (authorization.size() > 7 && absl::StartsWithIgnoreCase(authorization, "bearer ")) {
    return std::string(absl::StripAsciiWhitespace(authorization.substr(7)));
  }
  return std::string(absl::StripAsciiWhitespace(credentials.api_key));
}

}  // namespace

RequestGate::RequestGate(AuthMode mode, ApiKeyStore* keys, RateLimiter* limiter,
                         UsageLedger* usage, const Clock* clock, MetricsRegistry* metrics)
    : mode_(keys == nullptr ? AuthMode::kOff : mode),
      keys_(keys),
      limiter_(limiter),
      usage_(usage),
      clock_(clock),
      metrics_(metrics) {
  if (metrics_ != nullptr) {
    metrics_->Describe(kRequests, "Calls at the router's front door, by tenant and outcome.");
  }
}

void RequestGate::Count(const char* outcome, absl::string_view tenant) {
  if (metrics_ != nullptr) {
    metrics_->IncrementCounter(kRequests, {{"outcome", outcome}, {"tenant", std::string(tenant)}});
  }
}

bool RequestGate::AuthRequired() {
  if (mode_ == AuthMode::kOff) return false;
  if (mode_ == AuthMode::kRequired) return true;
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (now - required_checked_ >= kKeyCacheTtl) {
    auto active = keys_->HasActiveKeys();
    if (active.ok()) {
      required_ = *active;
    } else {
      // Failing closed: a broken key store must not open the door.
      spdlog::error("cannot read the API key store: {}", active.status().ToString());
      required_ = true;
    }
    required_checked_ = now;
  }
  return required_;
}

absl::StatusOr<ApiKeyInfo> RequestGate::VerifyKey(const std::string& key) {
  const std::string digest = Sha256Hex(key);
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = verified_.find(digest);
    if (it != verified_.end() && it->second.expires > now) return it->second.info;
  }
  auto info = keys_->Verify(key);
  if (!info.ok()) return info.status();
  absl::MutexLock lock(&mu_);
  if (verified_.size() >= kMaxCachedKeys) verified_.clear();
  verified_[digest] = {*info, now + kKeyCacheTtl};
  return info;
}

Admission RequestGate::Admit(absl::string_view method, const CallerCredentials& credentials) {
  Admission admission;
  const std::string key = mode_ == AuthMode::kOff ? "" : PresentedKey(credentials);
  if (!key.empty()) {
    // A key that is presented is checked even where none is required.
    auto info = VerifyKey(key);
    if (!info.ok()) {
      Count("unauthenticated", "");
      admission.status = info.status();
      return admission;
    }
    admission.tenant = info->tenant;
    admission.key_id = info->key_id;
    admission.admin = info->role == ApiKeyRole::kAdmin;
    if (!credentials.tenant.empty() && credentials.tenant != info->tenant) {
      if (!admission.admin) {
        Count("permission_denied", info->tenant);
        admission.status = absl::PermissionDeniedError(
            absl::StrCat("the API key belongs to tenant \"", info->tenant,
                         "\" and may not act for tenant \"", credentials.tenant, "\""));
        return admission;
      }
      admission.tenant = credentials.tenant;  // an admin acting for another tenant
    }
  } else if (AuthRequired()) {
    Count("unauthenticated", "");
    admission.status = absl::UnauthenticatedError(
        absl::StrCat(method, ": this server requires an API key; send it as "
                             "\"authorization: Bearer <key>\" or \"x-api-key: <key>\""));
    return admission;
  } else {
    // Without authentication the caller names its tenant, as in a single-team
    // deployment; there is nobody to keep out, so it may see every tenant.
    admission.tenant = credentials.tenant.empty() ? "default" : credentials.tenant;
    admission.admin = true;
  }

  if (limiter_ != nullptr) {
    RateDecision decision = limiter_->Acquire(admission.tenant, 0);
    if (!decision.allowed) {
      Count("rate_limited", admission.tenant);
      admission.retry_after = decision.retry_after;
      const std::string when =
          decision.retry_after == absl::InfiniteDuration()
              ? "the budget does not reset"
              : absl::StrCat("retry after ",
                             static_cast<int64_t>(
                                 std::ceil(absl::ToDoubleSeconds(decision.retry_after))),
                             "s");
      admission.status = absl::ResourceExhaustedError(
          absl::StrCat("tenant \"", admission.tenant, "\" is over its ",
                       RateLimitReasonName(decision.reason), " limit; ", when));
      return admission;
    }
  }
  if (usage_ != nullptr) usage_->RecordRequest(admission.tenant);
  Count("admitted", admission.tenant);
  return admission;
}

}  // namespace tessera::gateway
