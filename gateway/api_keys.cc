#include "gateway/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tessera::gateway {
namespace {

constexpr int kSecretBytes = 32;
constexpr int kSaltBytes = 16;
constexpr size_t kKeyIdChars = 12;
// base64url of 32 bytes, unpadded.
constexpr size_t kEncodedSecretChars = 43;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS api_keys (
  key_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  role TEXT NOT NULL,
  name TEXT NOT NULL,
  salt BLOB NOT NULL,
  hmac BLOB NOT NULL,
  create_unix_micros INTEGER NOT NULL,
  revoke_unix_micros INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON api_keys(tenant);
)sql";

absl::StatusOr<std::string> RandomBytes(int count) {
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), count) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed");
  }
  return out;
}

// HMAC-SHA-256 keyed by the per-key salt: a stolen database gives neither the
// keys nor a table that works across keys.
absl::StatusOr<std::string> KeyHmac(absl::string_view salt, absl::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
           reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest,
           &length) == nullptr) {
    return absl::InternalError("OpenSSL HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool ValidTenant(absl::string_view tenant) {
  if (tenant.empty() || tenant.size() > 128) return false;
  for (char c : tenant) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool ValidEncodedSecret(absl::string_view encoded) {
  if (encoded.size() != kEncodedSecretChars) return false;
  for (char c : encoded) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

int64_t ToMicros(absl::Time time) { return absl::ToUnixMicros(time); }

ApiKeyInfo RowToInfo(const SqliteStatement& row) {
  ApiKeyInfo info;
  info.key_id = row.ColumnText(0);
  info.tenant = row.ColumnText(1);
  info.role = row.ColumnText(2) == "admin" ? ApiKeyRole::kAdmin : ApiKeyRole::kUser;
  info.name = row.ColumnText(3);
  info.create_time = absl::FromUnixMicros(row.ColumnInt(4));
  info.revoked = !row.ColumnIsNull(5);
  if (info.revoked) info.revoke_time = absl::FromUnixMicros(row.ColumnInt(5));
  return info;
}

constexpr char kInfoColumns[] =
    "key_id, tenant, role, name, create_unix_micros, revoke_unix_micros";

}  // namespace

const char* ApiKeyRoleName(ApiKeyRole role) {
  return role == ApiKeyRole::kAdmin ? "admin" : "user";
}

absl::StatusOr<ApiKeyRole> ParseApiKeyRole(absl::string_view name) {
  if (name == "admin") return ApiKeyRole::kAdmin;
  if (name == "user") return ApiKeyRole::kUser;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown API key role \"", name, "\" (want \"admin\" or \"user\")"));
}

absl::StatusOr<std::unique_ptr<ApiKeyStore>> ApiKeyStore::Open(const std::string& path,
                                                               const Clock* clock) {
  auto db = SqliteDatabase::Open(path);
  if (!db.ok()) return db.status();
  absl::Status schema = (*db)->Execute(kSchema);
  if (!schema.ok()) return schema;
  return std::unique_ptr<ApiKeyStore>(new ApiKeyStore(std::move(*db), clock));
}

absl::StatusOr<CreatedApiKey> ApiKeyStore::Create(absl::string_view tenant, ApiKeyRole role,
                                                  absl::string_view name) {
  if (!ValidTenant(tenant)) {
    return absl::InvalidArgumentError(
        "tenant must be 1-128 characters of letters, digits, '.', '_' or '-'");
  }
  if (name.size() > 256) return absl::InvalidArgumentError("key name longer than 256 bytes");

  absl::MutexLock lock(&mu_);
  // A key-id collision (72 random bits) is practically impossible; retry anyway.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto secret = RandomBytes(kSecretBytes);
    auto salt = RandomBytes(kSaltBytes);
    if (!secret.ok()) return secret.status();
    if (!salt.ok()) return salt.status();
    std::string encoded = absl::WebSafeBase64Escape(*secret);
    CreatedApiKey created;
    created.plaintext = absl::StrCat(kKeyPrefix, encoded);
    auto hmac = KeyHmac(*salt, created.plaintext);
    if (!hmac.ok()) return hmac.status();

    created.info.key_id = encoded.substr(0, kKeyIdChars);
    created.info.tenant = std::string(tenant);
    created.info.role = role;
    created.info.name = std::string(name);
    created.info.create_time = absl::FromUnixMicros(ToMicros(clock_->Now()));

    auto exists = db_->Prepare("SELECT 1 FROM api_keys WHERE key_id = ?");
    if (!exists.ok()) return exists.status();
    exists->BindText(1, created.info.key_id);
    auto found = exists->Step();
    if (!found.ok()) return found.status();
    if (*found) continue;

    auto insert = db_->Prepare(
        "INSERT INTO api_keys (key_id, tenant, role, name, salt, hmac, create_unix_micros) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    insert->BindText(1, created.info.key_id)
        .BindText(2, created.info.tenant)
        .BindText(3, ApiKeyRoleName(role))
        .BindText(4, created.info.name)
        .BindBlob(5, *salt)
        .BindBlob(6, *hmac)
        .Bind(7, ToMicros(created.info.create_time));
    absl::Status inserted = insert->Run();
    if (!inserted.ok()) return inserted;
    return created;
  }
  return absl::InternalError("could not allocate a unique API key id");
}

absl::StatusOr<ApiKeyInfo> ApiKeyStore::Verify(absl::string_view presented_key) {
  // One message for every failure that could help an attacker probe keys.
  const absl::Status invalid = absl::UnauthenticatedError("invalid API key");
  if (!absl::StartsWith(presented_key, kKeyPrefix)) return invalid;
  absl::string_view encoded = presented_key.substr(sizeof(kKeyPrefix) - 1);
  if (!ValidEncodedSecret(encoded)) return invalid;
  std::string key_id(encoded.substr(0, kKeyIdChars));

  absl::MutexLock lock(&mu_);
  auto select = db_->Prepare(absl::StrCat("SELECT ", kInfoColumns,
                                          ", salt, hmac FROM api_keys WHERE key_id = ?"));
  if (!select.ok()) return select.status();
  select->BindText(1, key_id);
  auto found = select->Step();
  if (!found.ok()) return found.status();
  if (!*found) return invalid;

  std::string salt = select->ColumnBlob(6);
  std::string stored = select->ColumnBlob(7);
  auto computed = KeyHmac(salt, presented_key);
  if (!computed.ok()) return computed.status();
  if (computed->size() != stored.size() ||
      CRYPTO_memcmp(computed->data(), stored.data(), stored.size()) != 0) {
    return invalid;
  }
  ApiKeyInfo info = RowToInfo(*select);
  if (info.revoked) return absl::UnauthenticatedError("API key has been revoked");
  return info;
}

absl::Status ApiKeyStore::Revoke(absl::string_view key_id) {
  absl::MutexLock lock(&mu_);
  auto update = db_->Prepare(
      "UPDATE api_keys SET revoke_unix_micros = COALESCE(revoke_unix_micros, ?) "
      "WHERE key_id = ?");
  if (!update.ok()) return update.status();
  update->Bind(1, ToMicros(clock_->Now())).BindText(2, key_id);
  absl::Status status = update->Run();
  if (!status.ok()) return status;
  if (db_->Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("no API key with id \"", key_id, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ApiKeyStore::HasActiveKeys() {
  absl::MutexLock lock(&mu_);
  auto select = db_->Prepare("SELECT 1 FROM api_keys WHERE revoke_unix_micros IS NULL LIMIT 1");
  if (!select.ok()) return select.status();
  return select->Step();
}

absl::StatusOr<std::vector<ApiKeyInfo>> ApiKeyStore::List(absl::string_view tenant) {
  absl::MutexLock lock(&mu_);
  std::string sql = absl::StrCat("SELECT ", kInfoColumns, " FROM api_keys");
  if (!tenant.empty()) absl::StrAppend(&sql, " WHERE tenant = ?");
  absl::StrAppend(&sql, " ORDER BY create_unix_micros, key_id");
  auto select = db_->Prepare(sql);
  if (!select.ok()) return select.status();
  if (!tenant.empty()) select->BindText(1, tenant);
  std::vector<ApiKeyInfo> keys;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    keys.push_back(RowToInfo(*select));
  }
  return keys;
}

}  // namespace tessera::gateway
