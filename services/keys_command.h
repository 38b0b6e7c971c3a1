// `tessera keys create|list|revoke`: API keys for the router, kept hashed in
// the gateway database of a data directory (the server may be running).
#ifndef TESSERA_SERVICES_KEYS_COMMAND_H_
#define TESSERA_SERVICES_KEYS_COMMAND_H_

#include <string>
#include <vector>

namespace tessera::services {

// `args` are the words after "keys" (the subcommand). Flags: --data_dir,
// --tenant, --role (user or admin), --name, --key_id. Returns the exit code.
int RunKeysCommand(const std::vector<std::string>& args);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_KEYS_COMMAND_H_
