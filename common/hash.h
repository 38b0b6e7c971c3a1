// Content hashing (SHA-256 through OpenSSL's libcrypto).
#ifndef TESSERA_COMMON_HASH_H_
#define TESSERA_COMMON_HASH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tessera {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

}  // namespace tessera

#endif  // TESSERA_COMMON_HASH_H_
