#include "engine/constrained/json_schema_constraint.h"

#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace tessera::constrained {
namespace {

using Json = nlohmann::json;

constexpr int kMaxProperties = 64;
constexpr size_t kMaxText = 120;
constexpr int kMaxAlternatives = 8;
constexpr int kMaxNumberBytes = 24;

bool IsWhitespace(uint8_t byte) { return byte == ' ' || byte == '\n' || byte == '\t' || byte == '\r'; }
bool IsDigit(uint8_t byte) { return byte >= '0' && byte <= '9'; }
bool IsHex(uint8_t byte) {
  return IsDigit(byte) || (byte >= 'a' && byte <= 'f') || (byte >= 'A' && byte <= 'F');
}

// Object phases.
enum : uint8_t { kKeyOrEnd, kKey, kInKey, kColon, kAfterMember };
// Array phases.
enum : uint8_t { kFirstItem, kAfterItem };
// String phases: normal, after a backslash, then four \u hex digits.
enum : uint8_t { kInString, kEscape, kUnicode0 };
// Number phases (the JSON number grammar).
enum : uint8_t { kNumStart, kMinus, kZero, kIntDigits, kDot, kFracDigits, kExp, kExpSign, kExpDigits };

bool NumberFinal(uint8_t phase) {
  return phase == kZero || phase == kIntDigits || phase == kFracDigits || phase == kExpDigits;
}

constexpr const char* kLiterals[] = {"true", "false", "null"};

// Whether the digits read so far (value `v`; `closed` after a leading zero,
// which takes no more digits) can still end in [minimum, maximum].
bool IntegerViable(uint64_t v, bool closed, uint64_t minimum, uint64_t maximum) {
  uint64_t low = v;
  uint64_t span = 1;  // Values reachable with k more digits: [low, low + span - 1].
  for (int k = 0; k <= 19; ++k) {
    if (low > maximum) return false;
    if (low + span - 1 >= minimum) return true;
    if (closed || low > UINT64_MAX / 10 || span > UINT64_MAX / 10) return false;
    low *= 10;
    span *= 10;
  }
  return false;
}

}  // namespace

class SchemaCompiler {
 public:
  absl::StatusOr<std::shared_ptr<const CompiledSchema>> Run(const Json& schema) {
    auto compiled = std::make_shared<CompiledSchema>();
    schema_ = compiled.get();
    schema_->nodes_.emplace_back();  // kAnyNode.
    absl::StatusOr<int> root = Compile(schema, "#", 0);
    if (!root.ok()) return root.status();
    schema_->root_ = *root;
    return std::shared_ptr<const CompiledSchema>(std::move(compiled));
  }

 private:
  absl::StatusOr<int> Compile(const Json& schema, const std::string& path, int depth) {
    if (depth > 16) return absl::InvalidArgumentError(absl::StrCat(path, ": schema nests too deeply"));
    if (schema.is_boolean() && schema.get<bool>()) return CompiledSchema::kAnyNode;
    if (!schema.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": a schema must be a JSON object"));
    }
    if (schema.contains("$ref")) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": $ref is not supported in constrained decoding"));
    }
    CompiledSchema::Node node;
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!schema.contains(key)) continue;
      const Json& alternatives = schema[key];
      if (!alternatives.is_array() || alternatives.empty() ||
          alternatives.size() > static_cast<size_t>(kMaxAlternatives)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": ", key, " must list 1 to ", kMaxAlternatives, " schemas"));
      }
      for (size_t i = 0; i < alternatives.size(); ++i) {
        absl::StatusOr<int> child = Compile(alternatives[i], absl::StrCat(path, "/", key, "/", i), depth + 1);
        if (!child.ok()) return child.status();
        node.any_of.push_back(*child);
      }
      return Add(std::move(node));
    }
    if (schema.contains("type")) {
      const Json& type = schema["type"];
      std::vector<Json> names = type.is_array() ? type.get<std::vector<Json>>() : std::vector<Json>{type};
      for (const Json& name : names) {
        absl::StatusOr<uint8_t> bit = TypeBit(name, path);
        if (!bit.ok()) return bit.status();
        node.types |= *bit;
      }
    }
    std::vector<Json> values;
    if (schema.contains("const")) values.push_back(schema["const"]);
    if (schema.contains("enum")) {
      if (!schema["enum"].is_array() || schema["enum"].empty()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": enum must be a non-empty array"));
      }
      for (const Json& value : schema["enum"]) values.push_back(value);
    }
    for (const Json& value : values) {
      std::string text = value.dump();
      if (text.size() > kMaxText) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": enum value longer than ", kMaxText, " bytes"));
      }
      node.enum_texts.push_back(std::move(text));
    }
    if (schema.contains("properties")) {
      const Json& properties = schema["properties"];
      if (!properties.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": properties must be an object"));
      }
      if (properties.size() > static_cast<size_t>(kMaxProperties)) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": more than ", kMaxProperties, " properties"));
      }
      if (node.types == 0) node.types = CompiledSchema::kObject;
      node.additional_properties = properties.empty();
      for (auto it = properties.begin(); it != properties.end(); ++it) {
        if (it.key().size() > kMaxText || it.key().find_first_of("\"\\") != std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": property name \"", it.key(), "\" is too long or needs escaping"));
        }
        absl::StatusOr<int> child = Compile(it.value(), absl::StrCat(path, "/properties/", it.key()), depth + 1);
        if (!child.ok()) return child.status();
        node.property_names.push_back(it.key());
        node.property_nodes.push_back(*child);
      }
    }
    if (schema.contains("additionalProperties")) {
      const Json& additional = schema["additionalProperties"];
      node.additional_properties = !(additional.is_boolean() && !additional.get<bool>());
    }
    if (schema.contains("required")) {
      for (const Json& name : schema["required"]) {
        bool found = false;
        for (size_t i = 0; i < node.property_names.size(); ++i) {
          if (name.is_string() && node.property_names[i] == name.get<std::string>()) {
            node.required |= uint64_t{1} << i;
            found = true;
          }
        }
        if (!found) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": required property ", name.dump(), " is not among the properties"));
        }
      }
    }
    if (schema.contains("items")) {
      if (node.types == 0) node.types = CompiledSchema::kArray;
      absl::StatusOr<int> items = Compile(schema["items"], path + "/items", depth + 1);
      if (!items.ok()) return items.status();
      node.items = *items;
    }
    if (schema.contains("minItems")) node.min_items = schema["minItems"].get<int>();
    if (schema.contains("maxItems")) node.max_items = schema["maxItems"].get<int>();
    if (schema.contains("maxLength")) node.max_length = schema["maxLength"].get<int>();
    if (schema.contains("minLength")) node.min_length = schema["minLength"].get<int>();
    if ((node.types & CompiledSchema::kInteger) && !(node.types & CompiledSchema::kNumber)) {
      const double minimum = schema.contains("minimum") ? schema["minimum"].get<double>() : 0;
      if (minimum >= 0 && (schema.contains("minimum") || schema.contains("maximum"))) {
        node.bounded = true;
        node.minimum = static_cast<uint64_t>(std::ceil(minimum));
        if (schema.contains("maximum")) {
          const double maximum = schema["maximum"].get<double>();
          if (maximum < minimum) return absl::InvalidArgumentError(absl::StrCat(path, ": maximum is below minimum"));
          node.maximum = maximum >= 1e18 ? UINT64_MAX : static_cast<uint64_t>(std::floor(maximum));
        }
      }
    }
    if (node.max_items >= 0 && node.max_items < node.min_items) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": maxItems is below minItems"));
    }
    return Add(std::move(node));
  }

  static absl::StatusOr<uint8_t> TypeBit(const Json& name, const std::string& path) {
    static const std::pair<const char*, uint8_t> kTypes[] = {
        {"object", CompiledSchema::kObject},   {"array", CompiledSchema::kArray},
        {"string", CompiledSchema::kString},   {"number", CompiledSchema::kNumber},
        {"integer", CompiledSchema::kInteger}, {"boolean", CompiledSchema::kBoolean},
        {"null", CompiledSchema::kNull}};
    if (name.is_string()) {
      for (const auto& [text, bit] : kTypes) {
        if (name.get<std::string>() == text) return bit;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": unknown type ", name.dump()));
  }

  int Add(CompiledSchema::Node node) {
    schema_->nodes_.push_back(std::move(node));
    return static_cast<int>(schema_->nodes_.size()) - 1;
  }

  CompiledSchema* schema_ = nullptr;
};

absl::StatusOr<std::shared_ptr<const CompiledSchema>> CompiledSchema::Compile(absl::string_view schema_json) {
  Json schema = Json::parse(schema_json.begin(), schema_json.end(), nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return absl::InvalidArgumentError("the JSON schema is not valid JSON");
  try {
    return SchemaCompiler().Run(schema);
  } catch (const Json::exception& error) {
    // Wrongly typed keyword values (e.g. "maxItems": "x").
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON schema: ", error.what()));
  }
}

JsonSchemaAcceptor::JsonSchemaAcceptor(std::shared_ptr<const CompiledSchema> schema)
    : schema_(std::move(schema)) {
  stacks_.reserve(kMaxStacks);
  Stack stack;
  stack.depth = 1;
  stack.frames[0].kind = Kind::kValue;
  stack.frames[0].node = static_cast<int16_t>(schema_->root());
  stacks_.push_back(stack);
}

bool JsonSchemaAcceptor::FeedAll(absl::string_view bytes) {
  for (char c : bytes) {
    if (!Feed(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool JsonSchemaAcceptor::Feed(uint8_t byte) {
  size_t i = 0;
  while (i < stacks_.size()) {
    Stack& stack = stacks_[i];
    if (stack.depth > 0) {
      Frame& top = stack.frames[stack.depth - 1];
      const CompiledSchema::Node& node = schema_->node(top.node);
      if (top.kind == Kind::kValue && !node.any_of.empty() && !IsWhitespace(byte)) {
        // A value of an anyOf starts: follow every alternative in parallel.
        const Stack base = stack;
        for (size_t a = 1; a < node.any_of.size() && stacks_.size() < kMaxStacks; ++a) {
          stacks_.push_back(base);
          stacks_.back().frames[base.depth - 1].node = static_cast<int16_t>(node.any_of[a]);
        }
        stacks_[i].frames[base.depth - 1].node = static_cast<int16_t>(node.any_of[0]);
        continue;  // Re-examine stack i with its first alternative.
      }
    }
    if (FeedStack(stacks_[i], byte)) {
      ++i;
    } else {
      stacks_[i] = stacks_.back();
      stacks_.pop_back();
    }
  }
  return !stacks_.empty();
}

bool JsonSchemaAcceptor::CanEnd() const {
  for (const Stack& stack : stacks_) {
    if (IsComplete(stack, /*allow_open_number=*/true)) return true;
  }
  return false;
}

bool JsonSchemaAcceptor::MustEnd() const {
  for (const Stack& stack : stacks_) {
    if (!IsComplete(stack, /*allow_open_number=*/false)) return false;
  }
  return !stacks_.empty();
}

bool JsonSchemaAcceptor::IsComplete(const Stack& stack, bool allow_open_number) {
  if (stack.depth == 0) return true;
  if (!allow_open_number || stack.depth != 1) return false;
  const Frame& top = stack.frames[0];
  return top.kind == Kind::kNumber && NumberFinal(top.phase);
}

void JsonSchemaAcceptor::PopValue(Stack& stack) const {
  --stack.depth;
  if (stack.depth == 0) return;
  Frame& parent = stack.frames[stack.depth - 1];
  parent.whitespace = 0;
  if (parent.kind == Kind::kArray) {
    ++parent.count;
    parent.phase = kAfterItem;
  } else {
    parent.phase = kAfterMember;
  }
}

bool JsonSchemaAcceptor::StartValue(Stack& stack, uint8_t byte) const {
  Frame& top = stack.frames[stack.depth - 1];
  const CompiledSchema::Node& node = schema_->node(top.node);
  if (IsWhitespace(byte)) return top.whitespace++ == 0;
  // `]` right after `[`: the array was empty, not a value.
  if (byte == ']' && stack.depth >= 2) {
    const Frame& parent = stack.frames[stack.depth - 2];
    if (parent.kind == Kind::kArray && parent.phase == kFirstItem) {
      --stack.depth;
      return FeedStack(stack, byte);
    }
  }
  if (!node.enum_texts.empty()) {
    top.kind = Kind::kEnum;
    stack.buffer_size = 0;
    return FeedStack(stack, byte);
  }
  const uint8_t types = node.types == 0 ? 0xff : node.types;
  top.whitespace = 0;
  top.count = 0;
  top.phase = 0;
  top.seen = 0;
  switch (byte) {
    case '{':
      if (!(types & CompiledSchema::kObject)) return false;
      top.kind = Kind::kObject;
      top.phase = kKeyOrEnd;
      return true;
    case '[':
      if (!(types & CompiledSchema::kArray)) return false;
      top.kind = Kind::kArray;
      top.phase = kFirstItem;
      if (node.max_items != 0) {
        if (stack.depth >= kMaxDepth) return false;
        Frame& item = stack.frames[stack.depth++];
        item = Frame();
        item.node = static_cast<int16_t>(node.items >= 0 ? node.items : CompiledSchema::kAnyNode);
      }
      return true;
    case '"':
      if (!(types & CompiledSchema::kString)) return false;
      top.kind = Kind::kString;
      top.phase = kInString;
      return true;
    case 't':
    case 'f':
    case 'n':
      if (!(types & (byte == 'n' ? CompiledSchema::kNull : CompiledSchema::kBoolean))) return false;
      top.kind = Kind::kLiteral;
      top.phase = byte == 't' ? 0 : byte == 'f' ? 1 : 2;
      top.count = 1;
      return true;
    default:
      if (byte != '-' && !IsDigit(byte)) return false;
      if (!(types & (CompiledSchema::kNumber | CompiledSchema::kInteger))) return false;
      top.kind = Kind::kNumber;
      top.phase = kNumStart;
      return FeedStack(stack, byte);
  }
}

bool JsonSchemaAcceptor::FeedStack(Stack& stack, uint8_t byte) const {
  if (stack.depth == 0) return false;  // The value is closed; nothing may follow.
  Frame& top = stack.frames[stack.depth - 1];
  const CompiledSchema::Node& node = schema_->node(top.node);
  switch (top.kind) {
    case Kind::kValue:
      return StartValue(stack, byte);

    case Kind::kObject: {
      if (top.phase == kInKey) {
        if (byte == '"') {
          const absl::string_view key(stack.buffer.data(), stack.buffer_size);
          int index = -1;
          for (size_t p = 0; p < node.property_names.size(); ++p) {
            if (node.property_names[p] == key) index = static_cast<int>(p);
          }
          if (index >= 0 && (top.seen >> index & 1)) return false;  // Duplicate key.
          if (index < 0 && !node.additional_properties) return false;
          if (index >= 0) top.seen |= uint64_t{1} << index;
          top.count = index;
          top.phase = kColon;
          top.whitespace = 0;
          return true;
        }
        if (byte < 0x20 || byte == '\\' || stack.buffer_size >= kBufferSize) return false;
        stack.buffer[stack.buffer_size++] = static_cast<char>(byte);
        if (node.additional_properties) return true;
        const absl::string_view prefix(stack.buffer.data(), stack.buffer_size);
        for (size_t p = 0; p < node.property_names.size(); ++p) {
          if (!(top.seen >> p & 1) && absl::StartsWith(node.property_names[p], prefix)) {
            return true;
          }
        }
        return false;
      }
      if (IsWhitespace(byte)) return top.whitespace++ == 0;
      top.whitespace = 0;
      switch (top.phase) {
        case kKeyOrEnd:
        case kKey:
          if (byte == '"') {
            top.phase = kInKey;
            stack.buffer_size = 0;
            return true;
          }
          if (byte != '}' || top.phase == kKey) return false;
          [[fallthrough]];
        case kAfterMember:
          if (byte == '}') {
            if ((node.required & top.seen) != node.required) return false;
            PopValue(stack);
            return true;
          }
          if (byte != ',' || top.phase != kAfterMember) return false;
          if (!node.additional_properties) {
            const uint64_t all = node.property_names.size() == 64
                                     ? ~uint64_t{0}
                                     : (uint64_t{1} << node.property_names.size()) - 1;
            if ((top.seen & all) == all) return false;  // No key left to give.
          }
          top.phase = kKey;
          return true;
        case kColon: {
          if (byte != ':' || stack.depth >= kMaxDepth) return false;
          top.phase = kAfterMember;
          const int child = top.count >= 0 ? node.property_nodes[top.count] : CompiledSchema::kAnyNode;
          Frame& value = stack.frames[stack.depth++];
          value = Frame();
          value.node = static_cast<int16_t>(child);
          return true;
        }
      }
      return false;
    }

    case Kind::kArray: {
      if (IsWhitespace(byte)) return top.whitespace++ == 0;
      top.whitespace = 0;
      if (byte == ']') {
        if (top.count < node.min_items) return false;
        PopValue(stack);
        return true;
      }
      if (byte != ',' || top.phase != kAfterItem) return false;
      if (node.max_items >= 0 && top.count >= node.max_items) return false;
      if (stack.depth >= kMaxDepth) return false;
      Frame& item = stack.frames[stack.depth++];
      item = Frame();
      item.node = static_cast<int16_t>(node.items >= 0 ? node.items : CompiledSchema::kAnyNode);
      return true;
    }

    case Kind::kString: {
      if (top.phase == kEscape) {
        if (byte == 'u') {
          top.phase = kUnicode0;
          return true;
        }
        top.phase = kInString;
        return byte == '"' || byte == '\\' || byte == '/' || byte == 'b' || byte == 'f' ||
               byte == 'n' || byte == 'r' || byte == 't';
      }
      if (top.phase >= kUnicode0) {
        if (!IsHex(byte)) return false;
        top.phase = top.phase == kUnicode0 + 3 ? kInString : top.phase + 1;
        return true;
      }
      if (byte == '"') {
        if (top.count < node.min_length) return false;
        PopValue(stack);
        return true;
      }
      if (byte < 0x20) return false;
      if ((byte & 0xC0) != 0x80) {  // Count characters, not UTF-8 continuation bytes.
        if (node.max_length >= 0 && top.count >= node.max_length) return false;
        ++top.count;
      }
      if (byte == '\\') top.phase = kEscape;
      return true;
    }

    case Kind::kNumber: {
      const bool integer_only = (node.types & CompiledSchema::kInteger) && !(node.types & CompiledSchema::kNumber);
      uint8_t next = 0xff;
      switch (top.phase) {
        case kNumStart:
          next = byte == '-' ? kMinus : byte == '0' ? kZero : IsDigit(byte) ? kIntDigits : 0xff;
          break;
        case kMinus:
          next = byte == '0' ? kZero : IsDigit(byte) ? kIntDigits : 0xff;
          break;
        case kZero:
        case kIntDigits:
          if (IsDigit(byte) && top.phase == kIntDigits) next = kIntDigits;
          if (!integer_only && byte == '.') next = kDot;
          if (!integer_only && (byte == 'e' || byte == 'E')) next = kExp;
          break;
        case kDot:
        case kFracDigits:
          if (IsDigit(byte)) next = kFracDigits;
          if (top.phase == kFracDigits && (byte == 'e' || byte == 'E')) next = kExp;
          break;
        case kExp:
          next = (byte == '+' || byte == '-') ? kExpSign : IsDigit(byte) ? kExpDigits : 0xff;
          break;
        case kExpSign:
        case kExpDigits:
          if (IsDigit(byte)) next = kExpDigits;
          break;
      }
      if (next != 0xff) {
        top.phase = next;
        if (node.bounded) {
          if (byte == '-') return false;
          if (top.seen > UINT64_MAX / 10) return false;
          top.seen = top.seen * 10 + (byte - '0');
          if (!IntegerViable(top.seen, next == kZero, node.minimum, node.maximum)) return false;
        }
        return ++top.count <= kMaxNumberBytes;
      }
      // The byte ends the number: it belongs to the enclosing value.
      if (!NumberFinal(top.phase)) return false;
      if (node.bounded && (top.seen < node.minimum || top.seen > node.maximum)) return false;
      PopValue(stack);
      return FeedStack(stack, byte);
    }

    case Kind::kLiteral: {
      const absl::string_view literal = kLiterals[top.phase];
      if (static_cast<uint8_t>(literal[top.count]) != byte) return false;
      if (++top.count == static_cast<int>(literal.size())) PopValue(stack);
      return true;
    }

    case Kind::kEnum: {
      const absl::string_view matched(stack.buffer.data(), stack.buffer_size);
      bool extends = false;
      bool exact_match = false;
      bool longer = false;
      for (const std::string& text : node.enum_texts) {
        if (text == matched) exact_match = true;
        if (text.size() > matched.size() && absl::StartsWith(text, matched) &&
            static_cast<uint8_t>(text[matched.size()]) == byte) {
          extends = true;
          if (text.size() > matched.size() + 1) longer = true;
        }
      }
      if (!extends) {
        if (!exact_match) return false;
        PopValue(stack);
        return FeedStack(stack, byte);
      }
      stack.buffer[stack.buffer_size++] = static_cast<char>(byte);
      const absl::string_view now(stack.buffer.data(), stack.buffer_size);
      bool complete = false;
      for (const std::string& text : node.enum_texts) {
        if (text == now) complete = true;
      }
      if (complete && !longer) PopValue(stack);
      return true;
    }
  }
  return false;
}

}  // namespace tessera::constrained
