#include "common/metadata_filter.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

namespace tessera {

using common::v1::FieldCondition;
using common::v1::Filter;
using common::v1::MetadataValue;

struct MetadataFilter::Node {
  enum class Kind { kCondition, kAnd, kOr, kNot };
  Kind kind = Kind::kCondition;
  FieldCondition condition;
  std::vector<std::unique_ptr<Node>> children;
};

namespace {

using Node = MetadataFilter::Node;

std::optional<double> AsNumber(const MetadataValue& value) {
  switch (value.kind_case()) {
    case MetadataValue::kIntValue:
      return static_cast<double>(value.int_value());
    case MetadataValue::kDoubleValue:
      return value.double_value();
    case MetadataValue::kTimestampValue:
      return static_cast<double>(value.timestamp_value().seconds()) +
             value.timestamp_value().nanos() * 1e-9;
    default:
      return std::nullopt;
  }
}

// <0, 0, >0 like strcmp; nullopt when the two values cannot be compared.
std::optional<int> Compare(const MetadataValue& a, const MetadataValue& b) {
  if (a.kind_case() == MetadataValue::kStringValue &&
      b.kind_case() == MetadataValue::kStringValue) {
    int c = a.string_value().compare(b.string_value());
    return (c > 0) - (c < 0);
  }
  if (a.kind_case() == MetadataValue::kBoolValue && b.kind_case() == MetadataValue::kBoolValue) {
    return static_cast<int>(a.bool_value()) - static_cast<int>(b.bool_value());
  }
  bool a_time = a.kind_case() == MetadataValue::kTimestampValue;
  bool b_time = b.kind_case() == MetadataValue::kTimestampValue;
  if (a_time != b_time) return std::nullopt;  // a time is not a number
  std::optional<double> x = AsNumber(a), y = AsNumber(b);
  if (!x || !y) return std::nullopt;
  return (*x > *y) - (*x < *y);
}

bool Equal(const MetadataValue& a, const MetadataValue& b) {
  std::optional<int> c = Compare(a, b);
  return c.has_value() && *c == 0;
}

// Scalar values of a field: the list elements for a string list.
template <typename Fn>
bool AnyScalar(const MetadataValue& field, Fn fn) {
  if (field.kind_case() != MetadataValue::kStringListValue) return fn(field);
  MetadataValue element;
  for (const std::string& item : field.string_list_value().values()) {
    element.set_string_value(item);
    if (fn(element)) return true;
  }
  return false;
}

bool EvaluateCondition(const FieldCondition& condition, const MetadataValue* field) {
  if (condition.op() == FieldCondition::EXISTS) return field != nullptr;
  if (field == nullptr) {
    return condition.op() == FieldCondition::NE || condition.op() == FieldCondition::NOT_IN;
  }
  const MetadataValue& value = condition.value();
  switch (condition.op()) {
    case FieldCondition::EQ:
      return AnyScalar(*field, [&](const MetadataValue& v) { return Equal(v, value); });
    case FieldCondition::NE:
      return !AnyScalar(*field, [&](const MetadataValue& v) { return Equal(v, value); });
    case FieldCondition::LT:
    case FieldCondition::LTE:
    case FieldCondition::GT:
    case FieldCondition::GTE:
      return AnyScalar(*field, [&](const MetadataValue& v) {
        std::optional<int> c = Compare(v, value);
        if (!c) return false;
        switch (condition.op()) {
          case FieldCondition::LT: return *c < 0;
          case FieldCondition::LTE: return *c <= 0;
          case FieldCondition::GT: return *c > 0;
          default: return *c >= 0;
        }
      });
    case FieldCondition::IN:
    case FieldCondition::NOT_IN: {
      bool any = AnyScalar(*field, [&](const MetadataValue& v) {
        return std::any_of(condition.values().begin(), condition.values().end(),
                           [&](const MetadataValue& candidate) { return Equal(v, candidate); });
      });
      return condition.op() == FieldCondition::IN ? any : !any;
    }
    case FieldCondition::CONTAINS: {
      if (field->kind_case() == MetadataValue::kStringListValue) {
        const auto& values = field->string_list_value().values();
        return std::find(values.begin(), values.end(), value.string_value()) != values.end();
      }
      return field->kind_case() == MetadataValue::kStringValue &&
             field->string_value().find(value.string_value()) != std::string::npos;
    }
    default:
      return false;
  }
}

bool Evaluate(const Node& node, MetadataLookup lookup) {
  switch (node.kind) {
    case Node::Kind::kCondition:
      return EvaluateCondition(node.condition, lookup(node.condition.field()));
    case Node::Kind::kAnd:
      for (const auto& child : node.children) {
        if (!Evaluate(*child, lookup)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (const auto& child : node.children) {
        if (Evaluate(*child, lookup)) return true;
      }
      return false;
    case Node::Kind::kNot:
      return !Evaluate(*node.children[0], lookup);
  }
  return false;
}

absl::Status CheckCondition(const FieldCondition& condition, const std::string& where) {
  if (condition.field().empty()) return absl::InvalidArgumentError(where + ": field is required");
  auto need_value = [&]() -> absl::Status {
    if (condition.value().kind_case() == MetadataValue::KIND_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " (", condition.field(), " ", FieldCondition::Op_Name(condition.op()),
          "): value is required"));
    }
    if (condition.value().kind_case() == MetadataValue::kStringListValue) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (", condition.field(), "): compare with a single value"));
    }
    return absl::OkStatus();
  };
  switch (condition.op()) {
    case FieldCondition::EQ:
    case FieldCondition::NE:
      return need_value();
    case FieldCondition::LT:
    case FieldCondition::LTE:
    case FieldCondition::GT:
    case FieldCondition::GTE: {
      absl::Status status = need_value();
      if (!status.ok()) return status;
      if (condition.value().kind_case() == MetadataValue::kBoolValue) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " (", condition.field(), "): booleans have no order"));
      }
      return absl::OkStatus();
    }
    case FieldCondition::IN:
    case FieldCondition::NOT_IN:
      if (condition.values_size() == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " (", condition.field(), " IN): values are required"));
      }
      return absl::OkStatus();
    case FieldCondition::CONTAINS:
      if (condition.value().kind_case() != MetadataValue::kStringValue) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " (", condition.field(), " CONTAINS): a string value is required"));
      }
      return absl::OkStatus();
    case FieldCondition::EXISTS:
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (", condition.field(), "): an op is required"));
  }
}

absl::StatusOr<std::unique_ptr<Node>> Build(const Filter& filter, int depth, int* conditions,
                                            const std::string& where,
                                            std::vector<std::string>* fields) {
  if (depth > MetadataFilter::kMaxDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter is nested deeper than ", MetadataFilter::kMaxDepth, " levels"));
  }
  auto node = std::make_unique<Node>();
  auto children = [&](const auto& list, Node::Kind kind,
                      const char* name) -> absl::Status {
    node->kind = kind;
    if (list.filters_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", name, " is empty"));
    }
    for (int i = 0; i < list.filters_size(); ++i) {
      auto child = Build(list.filters(i), depth + 1, conditions,
                         absl::StrCat(where, ".", name, "[", i, "]"), fields);
      if (!child.ok()) return child.status();
      node->children.push_back(std::move(*child));
    }
    return absl::OkStatus();
  };
  switch (filter.kind_case()) {
    case Filter::kCondition: {
      if (++*conditions > MetadataFilter::kMaxConditions) {
        return absl::InvalidArgumentError(absl::StrCat(
            "filter has more than ", MetadataFilter::kMaxConditions, " conditions"));
      }
      absl::Status status = CheckCondition(filter.condition(), where);
      if (!status.ok()) return status;
      node->condition = filter.condition();
      fields->push_back(filter.condition().field());
      return node;
    }
    case Filter::kAnd: {
      absl::Status status = children(filter.and_(), Node::Kind::kAnd, "and");
      if (!status.ok()) return status;
      return node;
    }
    case Filter::kOr: {
      absl::Status status = children(filter.or_(), Node::Kind::kOr, "or");
      if (!status.ok()) return status;
      return node;
    }
    case Filter::kNot: {
      node->kind = Node::Kind::kNot;
      auto child = Build(filter.not_(), depth + 1, conditions, where + ".not", fields);
      if (!child.ok()) return child.status();
      node->children.push_back(std::move(*child));
      return node;
    }
    default:
      return absl::InvalidArgumentError(where + ": empty filter inside a combination");
  }
}

}  // namespace

absl::StatusOr<MetadataFilter> MetadataFilter::Compile(const Filter& filter) {
  MetadataFilter compiled;
  if (filter.kind_case() == Filter::KIND_NOT_SET) return compiled;
  int conditions = 0;
  auto root = Build(filter, 0, &conditions, "filter", &compiled.fields_);
  if (!root.ok()) return root.status();
  compiled.root_ = std::shared_ptr<const Node>(std::move(*root));
  std::sort(compiled.fields_.begin(), compiled.fields_.end());
  compiled.fields_.erase(std::unique(compiled.fields_.begin(), compiled.fields_.end()),
                         compiled.fields_.end());
  return compiled;
}

bool MetadataFilter::Matches(MetadataLookup lookup) const {
  return root_ == nullptr || Evaluate(*root_, lookup);
}

bool MetadataFilter::Matches(
    const google::protobuf::Map<std::string, MetadataValue>& metadata) const {
  return Matches([&metadata](absl::string_view field) -> const MetadataValue* {
    auto it = metadata.find(std::string(field));
    return it == metadata.end() ? nullptr : &it->second;
  });
}

}  // namespace tessera
