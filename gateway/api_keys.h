// API keys that authenticate callers to the gateway. Each key belongs to one
// tenant and has a role. Only a salted HMAC-SHA-256 of a key is stored (SQLite);
// the plaintext is returned once, at creation, and never logged or listed.
//
// Key format: "tsk_" + base64url(32 random bytes) (43 characters). The first
// 12 characters after "tsk_" double as the key's public id, so verification
// finds the row by index and compares one hash in constant time.
#ifndef TESSERA_GATEWAY_API_KEYS_H_
#define TESSERA_GATEWAY_API_KEYS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite.h"
#include "gateway/clock.h"

namespace tessera::gateway {

enum class ApiKeyRole { kUser, kAdmin };

// "admin" / "user".
const char* ApiKeyRoleName(ApiKeyRole role);
absl::StatusOr<ApiKeyRole> ParseApiKeyRole(absl::string_view name);

// What the store knows about a key; never the secret.
struct ApiKeyInfo {
  std::string key_id;  // public, e.g. for revocation and audit logs
  std::string tenant;
  ApiKeyRole role = ApiKeyRole::kUser;
  std::string name;  // a human label ("ci", "alice's laptop")
  absl::Time create_time = absl::InfinitePast();
  bool revoked = false;
  absl::Time revoke_time = absl::InfinitePast();
};

struct CreatedApiKey {
  ApiKeyInfo info;
  // The only time the plaintext key exists outside the caller's hands.
  std::string plaintext;
};

class ApiKeyStore {
 public:
  static constexpr char kKeyPrefix[] = "tsk_";

  // Opens (creating the table if missing) the key store in the SQLite file `path`.
  static absl::StatusOr<std::unique_ptr<ApiKeyStore>> Open(const std::string& path,
                                                           const Clock* clock = Clock::Real());

  // Creates a key for `tenant` (1-128 chars of [A-Za-z0-9._-]).
  absl::StatusOr<CreatedApiKey> Create(absl::string_view tenant, ApiKeyRole role,
                                       absl::string_view name);

  // Authenticates a presented key (e.g. from "Authorization: Bearer ...").
  // Unauthenticated for unknown, malformed or revoked keys; the message never
  // echoes the key.
  absl::StatusOr<ApiKeyInfo> Verify(absl::string_view presented_key);

  // Revokes by public id; NotFound when unknown. Revoking twice is OK.
  absl::Status Revoke(absl::string_view key_id);

  // Whether any key is not revoked (the gateway requires keys once one exists).
  absl::StatusOr<bool> HasActiveKeys();

  // Keys of `tenant` (all tenants when empty), oldest first.
  absl::StatusOr<std::vector<ApiKeyInfo>> List(absl::string_view tenant = "");

 private:
  ApiKeyStore(std::unique_ptr<SqliteDatabase> db, const Clock* clock)
      : db_(std::move(db)), clock_(clock) {}

  absl::Mutex mu_;
  std::unique_ptr<SqliteDatabase> db_ ABSL_GUARDED_BY(mu_);
  const Clock* clock_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_API_KEYS_H_
