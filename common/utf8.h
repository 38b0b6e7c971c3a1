// UTF-8 validation and Unicode normalisation (through utf8proc).
#ifndef TESSERA_COMMON_UTF8_H_
#define TESSERA_COMMON_UTF8_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera {

// OK when `text` is well-formed UTF-8; otherwise INVALID_ARGUMENT naming `field`
// and the byte offset of the first bad sequence.
absl::Status ValidateUtf8(absl::string_view text, absl::string_view field);

// Validates, then returns the NFC normalisation of `text`.
absl::StatusOr<std::string> NormalizeNfc(absl::string_view text, absl::string_view field);

// Number of Unicode code points in valid UTF-8 `text`.
size_t CodePointCount(absl::string_view text);

}  // namespace tessera

#endif  // TESSERA_COMMON_UTF8_H_
