#include "common/yaml.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace tessera {
namespace {

Json PlainScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  int64_t integer = 0;
  if (absl::SimpleAtoi(text, &integer)) return integer;
  if (text.find_first_of("0123456789") != std::string::npos) {
    double number = 0;
    if (absl::SimpleAtod(text, &number) && std::isfinite(number)) return number;
  }
  return text;
}

// yaml-cpp shares an aliased node, but the conversion copies it each time: a few
// lines of nested aliases ("billion laughs") would expand to billions of values.
// Text without aliases spends at least two bytes per value, so a budget of one
// value per byte never rejects it; aliases may add kAliasValues more. (A flat
// 1 << 20 let 600 bytes of aliases cost seconds of CPU and ~90 MB: fuzzing.)
constexpr int64_t kAliasValues = 1 << 16;

absl::StatusOr<Json> Convert(const YAML::Node& node, int depth, int64_t* values_left) {
  if (depth > 64) return absl::InvalidArgumentError("nested more than 64 levels deep");
  if (--*values_left < 0) {
    return absl::InvalidArgumentError(
        "too many values for the size of the text (aliases are expanded)");
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json(nullptr);
    case YAML::NodeType::Scalar:
      // yaml-cpp guesses UTF-16/32 from leading NULs and decodes escapes, so a
      // scalar can be invalid UTF-8 even when the text is valid.
      if (!ValidateUtf8(node.Scalar(), "scalar").ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", node.Mark().line + 1, ": a scalar is not valid UTF-8"));
      }
      // yaml-cpp tags quoted (non-plain) scalars "!".
      if (node.Tag() == "!") return Json(node.Scalar());
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const YAML::Node& item : node) {
        absl::StatusOr<Json> value = Convert(item, depth + 1, values_left);
        if (!value.ok()) return value;
        array.push_back(*std::move(value));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar() || !ValidateUtf8(entry.first.Scalar(), "key").ok()) {
          return absl::InvalidArgumentError(absl::StrCat("line ", entry.first.Mark().line + 1,
                                                         ": mapping keys must be UTF-8 scalars"));
        }
        absl::StatusOr<Json> value = Convert(entry.second, depth + 1, values_left);
        if (!value.ok()) return value;
        object[entry.first.Scalar()] = *std::move(value);
      }
      return object;
    }
  }
  return absl::InvalidArgumentError("unknown YAML node");
}

}  // namespace

absl::StatusOr<Json> ParseYaml(absl::string_view text, absl::string_view what) {
  // yaml-cpp passes bytes through; JSON values must be UTF-8 (dumping throws otherwise).
  if (absl::Status valid = ValidateUtf8(text, what); !valid.ok()) return valid;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    int64_t values_left = static_cast<int64_t>(text.size()) + kAliasValues;
    absl::StatusOr<Json> value = Convert(root, 0, &values_left);
    if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", value.status().message()));
    return value;
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid YAML: line ", error.mark.line + 1,
                                                   ", column ", error.mark.column + 1, ": ", error.msg));
  }
}

absl::StatusOr<Json> ParseJsonOrYaml(absl::string_view text, absl::string_view what) {
  absl::string_view start = absl::StripLeadingAsciiWhitespace(text);
  if (!start.empty() && (start.front() == '{' || start.front() == '[')) return ParseJson(text, what);
  return ParseYaml(text, what);
}

}  // namespace tessera
