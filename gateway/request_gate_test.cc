#include "gateway/request_gate.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tessera::gateway {
namespace {

std::string TempDbPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir ? dir : "/tmp", "/", name, ".sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

class RequestGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keys = ApiKeyStore::Open(TempDbPath(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()), &clock_);
    ASSERT_TRUE(keys.ok());
    keys_ = std::move(*keys);
  }
  CallerCredentials Bearer(const std::string& key, const std::string& tenant = "") {
    CallerCredentials credentials;
    credentials.authorization = "Bearer " + key;
    credentials.tenant = tenant;
    return credentials;
  }

  FakeClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<ApiKeyStore> keys_;
};

TEST_F(RequestGateTest, WithoutKeysCallersNameTheirTenant) {
  RateLimiter limiter({}, &clock_);
  RequestGate gate(AuthMode::kAuto, keys_.get(), &limiter, nullptr, &clock_, &metrics_);
  EXPECT_FALSE(gate.AuthRequired());
  CallerCredentials credentials;
  credentials.tenant = "acme";
  Admission admission = gate.Admit("/m", credentials);
  ASSERT_TRUE(admission.status.ok());
  EXPECT_EQ(admission.tenant, "acme");
  EXPECT_EQ(gate.Admit("/m", {}).tenant, "default");
}

TEST_F(RequestGateTest, KeysDecideTheTenantOnceIssued) {
  auto alice = keys_->Create("acme", ApiKeyRole::kUser, "alice");
  auto ops = keys_->Create("ops", ApiKeyRole::kAdmin, "ops");
  ASSERT_TRUE(alice.ok() && ops.ok());
  RequestGate gate(AuthMode::kAuto, keys_.get(), nullptr, nullptr, &clock_, &metrics_);
  EXPECT_TRUE(gate.AuthRequired());

  Admission none = gate.Admit("/tessera.x/Y", {});
  EXPECT_EQ(none.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(none.status.message(), "authorization: Bearer")) << none.status;
  EXPECT_EQ(gate.Admit("/m", Bearer("tsk_wrong")).status.code(),
            absl::StatusCode::kUnauthenticated);

  Admission admitted = gate.Admit("/m", Bearer(alice->plaintext));
  ASSERT_TRUE(admitted.status.ok()) << admitted.status;
  EXPECT_EQ(admitted.tenant, "acme");
  EXPECT_FALSE(admitted.admin);
  CallerCredentials by_header;
  by_header.api_key = alice->plaintext;
  EXPECT_EQ(gate.Admit("/m", by_header).tenant, "acme");

  // A user key cannot act for another tenant; an admin key can.
  EXPECT_EQ(gate.Admit("/m", Bearer(alice->plaintext, "globex")).status.code(),
            absl::StatusCode::kPermissionDenied);
  Admission admin = gate.Admit("/m", Bearer(ops->plaintext, "globex"));
  ASSERT_TRUE(admin.status.ok());
  EXPECT_EQ(admin.tenant, "globex");
  EXPECT_TRUE(admin.admin);

  // Revocation takes effect once the verified-key cache expires.
  ASSERT_TRUE(keys_->Revoke(alice->info.key_id).ok());
  clock_.Advance(absl::Seconds(6));
  EXPECT_EQ(gate.Admit("/m", Bearer(alice->plaintext)).status.code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(metrics_.RenderPrometheus(),
                                "tessera_gateway_requests_total{outcome=\"unauthenticated\""));
}

TEST_F(RequestGateTest, RateLimitsPerTenantWithRetryAfter) {
  RateLimiter limiter({}, &clock_);
  limiter.SetLimits("small", {.requests_per_minute = 2});
  RequestGate gate(AuthMode::kOff, nullptr, &limiter, nullptr, &clock_, &metrics_);
  CallerCredentials small;
  small.tenant = "small";
  EXPECT_TRUE(gate.Admit("/m", small).status.ok());
  EXPECT_TRUE(gate.Admit("/m", small).status.ok());
  Admission limited = gate.Admit("/m", small);
  EXPECT_EQ(limited.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(limited.retry_after, absl::Seconds(30));
  EXPECT_TRUE(absl::StrContains(limited.status.message(), "retry after 30s")) << limited.status;
  CallerCredentials other;
  other.tenant = "other";
  EXPECT_TRUE(gate.Admit("/m", other).status.ok());
}

}  // namespace
}  // namespace tessera::gateway
