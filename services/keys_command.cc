#include "services/keys_command.h"

#include <cstdio>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/api_keys.h"
#include "services/serve.h"

ABSL_FLAG(std::string, tenant, "", "keys: the tenant a new key acts for (or to list)");
ABSL_FLAG(std::string, role, "user", "keys create: user or admin (admins may act for any tenant)");
ABSL_FLAG(std::string, name, "", "keys create: a label for the key (\"ci\", \"alice's laptop\")");
ABSL_FLAG(std::string, key_id, "", "keys revoke: the key's public id (from keys list)");

namespace tessera::services {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "tessera keys: %s\n", message.c_str());
  return 1;
}

}  // namespace

int RunKeysCommand(const std::vector<std::string>& args) {
  constexpr char kUsage[] =
      "usage: tessera keys create --data_dir=DIR --tenant=T [--role=user|admin] [--name=N]\n"
      "       tessera keys list   --data_dir=DIR [--tenant=T]\n"
      "       tessera keys revoke --data_dir=DIR --key_id=ID";
  if (args.size() != 1) return Fail(kUsage);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir).empty()
                                   ? std::string("./tessera-data")
                                   : absl::GetFlag(FLAGS_data_dir);
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  auto store = gateway::ApiKeyStore::Open(data_dir + "/gateway.db");
  if (!store.ok()) return Fail(std::string(store.status().message()));

  const std::string& command = args[0];
  if (command == "create") {
    auto role = gateway::ParseApiKeyRole(absl::GetFlag(FLAGS_role));
    if (!role.ok()) return Fail(std::string(role.status().message()));
    auto created =
        (*store)->Create(absl::GetFlag(FLAGS_tenant), *role, absl::GetFlag(FLAGS_name));
    if (!created.ok()) return Fail(std::string(created.status().message()));
    // The only time the key is shown; the server keeps a salted hash.
    std::printf("%s\n", created->plaintext.c_str());
    std::fprintf(stderr, "key %s for tenant %s (%s); keep it now, it is not stored\n",
                 created->info.key_id.c_str(), created->info.tenant.c_str(),
                 gateway::ApiKeyRoleName(created->info.role));
    return 0;
  }
  if (command == "list") {
    auto keys = (*store)->List(absl::GetFlag(FLAGS_tenant));
    if (!keys.ok()) return Fail(std::string(keys.status().message()));
    for (const gateway::ApiKeyInfo& key : *keys) {
      std::printf("%s\t%s\t%s\t%s\t%s\t%s\n", key.key_id.c_str(), key.tenant.c_str(),
                  gateway::ApiKeyRoleName(key.role), key.name.c_str(),
                  absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", key.create_time, absl::UTCTimeZone()).c_str(),
                  key.revoked ? "revoked" : "active");
    }
    return 0;
  }
  if (command == "revoke") {
    absl::Status revoked = (*store)->Revoke(absl::GetFlag(FLAGS_key_id));
    if (!revoked.ok()) return Fail(std::string(revoked.message()));
    std::printf("revoked %s\n", absl::GetFlag(FLAGS_key_id).c_str());
    return 0;
  }
  return Fail(absl::StrCat("unknown subcommand \"", command, "\"\n", kUsage));
}

}  // namespace tessera::services
