#include "common/utf8.h"

#include <utf8proc.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tessera {

absl::Status ValidateUtf8(absl::string_view text, absl::string_view field) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t offset = 0;
  const utf8proc_ssize_t size = static_cast<utf8proc_ssize_t>(text.size());
  while (offset < size) {
    // Fast path for ASCII runs.
    if (bytes[offset] < 0x80) {
      ++offset;
      continue;
    }
    utf8proc_int32_t code_point;
    utf8proc_ssize_t n = utf8proc_iterate(bytes + offset, size - offset, &code_point);
    if (n < 0 || code_point < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": invalid UTF-8 at byte offset ", offset));
    }
    offset += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeNfc(absl::string_view text, absl::string_view field) {
  absl::Status valid = ValidateUtf8(text, field);
  if (!valid.ok()) return valid;
  bool ascii = true;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return std::string(text);  // ASCII is already NFC.
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &out,
                                    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": cannot normalise text: ", utf8proc_errmsg(n)));
  }
  std::string result(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  std::free(out);
  return result;
}

size_t CodePointCount(absl::string_view text) {
  size_t count = 0;
  for (char c : text) {
    // Count every byte that is not a continuation byte.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace tessera
