#include "engine/tokenizer/unicode_text.h"

#include <utf8proc.h>

namespace tessera::tokenizer {

std::vector<char32_t> ToCodePoints(absl::string_view valid_utf8) {
  std::vector<char32_t> code_points;
  code_points.reserve(valid_utf8.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(valid_utf8.data());
  const utf8proc_ssize_t size = static_cast<utf8proc_ssize_t>(valid_utf8.size());
  utf8proc_ssize_t offset = 0;
  while (offset < size) {
    if (bytes[offset] < 0x80) {
      code_points.push_back(bytes[offset++]);
      continue;
    }
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + offset, size - offset, &code_point);
    if (n <= 0) {  // Not expected for validated input; never loop forever.
      code_points.push_back(0xFFFD);
      ++offset;
      continue;
    }
    code_points.push_back(static_cast<char32_t>(code_point));
    offset += n;
  }
  return code_points;
}

void AppendUtf8(char32_t code_point, std::string* out) {
  utf8proc_uint8_t buffer[4];
  const utf8proc_ssize_t n =
      utf8proc_encode_char(static_cast<utf8proc_int32_t>(code_point), buffer);
  out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

void AppendUtf8Lossy(absl::string_view bytes, std::string* out) {
  const auto* data = reinterpret_cast<const utf8proc_uint8_t*>(bytes.data());
  const utf8proc_ssize_t size = static_cast<utf8proc_ssize_t>(bytes.size());
  utf8proc_ssize_t offset = 0;
  while (offset < size) {
    if (data[offset] < 0x80) {
      out->push_back(static_cast<char>(data[offset++]));
      continue;
    }
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(data + offset, size - offset, &code_point);
    if (n <= 0) {
      out->append("\xEF\xBF\xBD");
      ++offset;
      continue;
    }
    out->append(bytes.data() + offset, static_cast<size_t>(n));
    offset += n;
  }
}

std::optional<AddedTokenMatch> FindAddedToken(
    absl::string_view text, size_t count, absl::FunctionRef<absl::string_view(size_t)> content) {
  std::optional<AddedTokenMatch> best;
  size_t best_size = 0;
  for (size_t index = 0; index < count; ++index) {
    const absl::string_view token = content(index);
    if (token.empty()) continue;
    const size_t position = text.find(token);
    if (position == absl::string_view::npos) continue;
    if (!best || position < best->position ||
        (position == best->position && token.size() > best_size)) {
      best = AddedTokenMatch{position, index};
      best_size = token.size();
    }
  }
  return best;
}

}  // namespace tessera::tokenizer
