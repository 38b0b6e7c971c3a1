// Constrained decoding to a JSON schema: a byte-level acceptor for JSON text
// that also enforces a schema subset, so a local generator can only produce
// output that parses and validates (tool calls, structured output).
//
// Supported schema keywords: type (one or a list of object, array, string,
// number, integer, boolean, null), properties, required, additionalProperties
// (objects with `properties` accept only those keys unless it is true), items,
// minItems, maxItems, enum, const, anyOf/oneOf (tracked as parallel
// alternatives), minLength, maxLength, and minimum/maximum on integers whose
// minimum is not negative. Other annotation keywords (description, title,
// default, minimum, ...) are ignored; $ref is rejected. The output is compact
// JSON with at most one whitespace character between tokens, and generation
// ends as soon as the top-level value is closed.
#ifndef TESSERA_ENGINE_CONSTRAINED_JSON_SCHEMA_CONSTRAINT_H_
#define TESSERA_ENGINE_CONSTRAINED_JSON_SCHEMA_CONSTRAINT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::constrained {

// A schema compiled into nodes the acceptor walks; immutable and shareable.
class CompiledSchema {
 public:
  // INVALID_ARGUMENT for a schema that is not an object, uses $ref, or exceeds
  // the acceptor's limits (64 properties per object, 120-byte keys and enum
  // values, 8 anyOf alternatives).
  static absl::StatusOr<std::shared_ptr<const CompiledSchema>> Compile(absl::string_view schema_json);

  struct Node {
    uint8_t types = 0;  // Bit set of Type values; 0 = any JSON value.
    std::vector<std::string> property_names;
    std::vector<int> property_nodes;
    uint64_t required = 0;  // Bits over property_names.
    bool additional_properties = true;
    int items = -1;  // Node for array items; -1 = any.
    int min_items = 0;
    int max_items = -1;
    int min_length = 0;
    int max_length = -1;
    // Integer bounds, enforced only when minimum >= 0 (then no minus sign).
    bool bounded = false;
    uint64_t minimum = 0;
    uint64_t maximum = UINT64_MAX;
    std::vector<std::string> enum_texts;  // Compact JSON texts; empty = no enum.
    std::vector<int> any_of;
  };
  enum Type : uint8_t {
    kObject = 1, kArray = 2, kString = 4, kNumber = 8, kInteger = 16, kBoolean = 32, kNull = 64,
  };
  const Node& node(int index) const { return nodes_[index]; }
  static constexpr int kAnyNode = 0;  // Accepts any JSON value.
  int root() const { return root_; }

 private:
  std::vector<Node> nodes_;
  int root_ = 0;
  friend class SchemaCompiler;
};

// The acceptor's state; a plain value, cheap to copy (the constrained sampler
// copies it once per vocabulary-trie node it visits).
class JsonSchemaAcceptor {
 public:
  explicit JsonSchemaAcceptor(std::shared_ptr<const CompiledSchema> schema);

  // Feeds one byte; false when no continuation can satisfy the schema (the
  // state is then unspecified).
  bool Feed(uint8_t byte);
  bool FeedAll(absl::string_view bytes);
  // The text so far is a complete value (generation may stop here).
  bool CanEnd() const;
  // The text so far is a complete value and nothing more may follow.
  bool MustEnd() const;

 private:
  static constexpr int kMaxDepth = 24;
  static constexpr int kMaxStacks = 8;
  static constexpr int kBufferSize = 128;

  enum class Kind : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral, kEnum };
  struct Frame {
    Kind kind = Kind::kValue;
    uint8_t phase = 0;
    uint8_t whitespace = 0;  // Whitespace bytes since the last token.
    int16_t node = 0;
    int32_t count = 0;    // Array items, string length, literal progress or key index.
    uint64_t seen = 0;    // Object properties already given; a bounded integer's value.
  };
  struct Stack {
    std::array<Frame, kMaxDepth> frames;
    int depth = 0;
    int buffer_size = 0;  // Bytes of the key or enum text being matched.
    std::array<char, kBufferSize> buffer;
  };

  // Feeds `byte` to one stack (anyOf alternatives are expanded by Feed before
  // a value starts). Returns false when the stack dies.
  bool FeedStack(Stack& stack, uint8_t byte) const;
  bool StartValue(Stack& stack, uint8_t byte) const;
  void PopValue(Stack& stack) const;
  static bool IsComplete(const Stack& stack, bool allow_open_number);

  std::shared_ptr<const CompiledSchema> schema_;
  std::vector<Stack> stacks_;
};

}  // namespace tessera::constrained

#endif  // TESSERA_ENGINE_CONSTRAINED_JSON_SCHEMA_CONSTRAINT_H_
