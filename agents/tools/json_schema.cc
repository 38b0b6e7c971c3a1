#include "agents/tools/json_schema.h"

#include <cmath>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera::agents {

namespace {

bool MatchesType(const std::string& type, const Json& value) {
  if (type == "string") return value.is_string();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    return value.is_number_integer() ||
           (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
  }
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "null") return value.is_null();
  return false;
}

const std::set<std::string>& KnownTypes() {
  static const auto* const kTypes =
      new std::set<std::string>{"string", "number", "integer", "boolean", "object", "array", "null"};
  return *kTypes;
}

int64_t CodePoints(const std::string& text) {
  int64_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

absl::Status Fail(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

}  // namespace

absl::Status ValidateAgainstSchema(const Json& schema, const Json& value, absl::string_view path) {
  if (schema.is_boolean()) {
    return schema.get<bool>() ? absl::OkStatus() : Fail(path, "no value is allowed here");
  }
  if (!schema.is_object()) return absl::OkStatus();

  if (auto type = schema.find("type"); type != schema.end()) {
    std::vector<std::string> allowed;
    if (type->is_string()) allowed.push_back(type->get<std::string>());
    if (type->is_array()) {
      for (const Json& t : *type) {
        if (t.is_string()) allowed.push_back(t.get<std::string>());
      }
    }
    bool any = false;
    for (const std::string& t : allowed) any = any || MatchesType(t, value);
    if (!any) {
      return Fail(path, absl::StrCat("expected ", absl::StrJoin(allowed, " or "), ", got ",
                                     JsonTypeName(value)));
    }
  }
  if (auto allowed = schema.find("enum"); allowed != schema.end() && allowed->is_array()) {
    bool found = false;
    for (const Json& option : *allowed) found = found || option == value;
    if (!found) {
      return Fail(path, absl::StrCat("must be one of ", DumpJson(*allowed), ", got ", DumpJson(value)));
    }
  }
  if (auto constant = schema.find("const"); constant != schema.end() && *constant != value) {
    return Fail(path, absl::StrCat("must be ", DumpJson(*constant)));
  }
  if (value.is_number()) {
    double number = value.get<double>();
    auto bound = [&](const char* key, auto violates, const char* words) -> absl::Status {
      auto it = schema.find(key);
      if (it != schema.end() && it->is_number() && violates(number, it->get<double>())) {
        return Fail(path, absl::StrCat("must be ", words, " ", DumpJson(*it), ", got ", DumpJson(value)));
      }
      return absl::OkStatus();
    };
    if (auto s = bound("minimum", [](double v, double b) { return v < b; }, ">="); !s.ok()) return s;
    if (auto s = bound("maximum", [](double v, double b) { return v > b; }, "<="); !s.ok()) return s;
    if (auto s = bound("exclusiveMinimum", [](double v, double b) { return v <= b; }, ">"); !s.ok()) return s;
    if (auto s = bound("exclusiveMaximum", [](double v, double b) { return v >= b; }, "<"); !s.ok()) return s;
  }
  if (value.is_string()) {
    int64_t length = CodePoints(value.get<std::string>());
    if (auto it = schema.find("minLength"); it != schema.end() && it->is_number() && length < it->get<int64_t>()) {
      return Fail(path, absl::StrCat("must be at least ", it->get<int64_t>(), " characters long"));
    }
    if (auto it = schema.find("maxLength"); it != schema.end() && it->is_number() && length > it->get<int64_t>()) {
      return Fail(path, absl::StrCat("must be at most ", it->get<int64_t>(), " characters long"));
    }
  }
  if (value.is_array()) {
    int64_t size = static_cast<int64_t>(value.size());
    if (auto it = schema.find("minItems"); it != schema.end() && it->is_number() && size < it->get<int64_t>()) {
      return Fail(path, absl::StrCat("must have at least ", it->get<int64_t>(), " items"));
    }
    if (auto it = schema.find("maxItems"); it != schema.end() && it->is_number() && size > it->get<int64_t>()) {
      return Fail(path, absl::StrCat("must have at most ", it->get<int64_t>(), " items"));
    }
    if (auto items = schema.find("items"); items != schema.end()) {
      for (size_t i = 0; i < value.size(); ++i) {
        absl::Status s = ValidateAgainstSchema(*items, value[i], absl::StrCat(path, "[", i, "]"));
        if (!s.ok()) return s;
      }
    }
  }
  if (value.is_object()) {
    if (auto required = schema.find("required"); required != schema.end() && required->is_array()) {
      for (const Json& name : *required) {
        if (name.is_string() && !value.contains(name.get<std::string>())) {
          return Fail(path, absl::StrCat("missing required property '", name.get<std::string>(), "'"));
        }
      }
    }
    auto properties = schema.find("properties");
    bool has_properties = properties != schema.end() && properties->is_object();
    auto additional = schema.find("additionalProperties");
    bool closed = additional != schema.end() && additional->is_boolean() && !additional->get<bool>();
    for (auto it = value.begin(); it != value.end(); ++it) {
      std::string child = absl::StrCat(path, ".", it.key());
      if (has_properties && properties->contains(it.key())) {
        absl::Status s = ValidateAgainstSchema((*properties)[it.key()], it.value(), child);
        if (!s.ok()) return s;
      } else if (closed) {
        return Fail(path, absl::StrCat("unexpected property '", it.key(), "'"));
      } else if (additional != schema.end() && additional->is_object()) {
        absl::Status s = ValidateAgainstSchema(*additional, it.value(), child);
        if (!s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSchema(const Json& schema, absl::string_view path) {
  if (schema.is_boolean()) return absl::OkStatus();
  if (!schema.is_object()) return Fail(path, "a schema must be an object");
  if (auto type = schema.find("type"); type != schema.end()) {
    std::vector<Json> types = type->is_array() ? type->get<std::vector<Json>>() : std::vector<Json>{*type};
    for (const Json& t : types) {
      if (!t.is_string() || KnownTypes().count(t.get<std::string>()) == 0) {
        return Fail(path, absl::StrCat("unknown type ", DumpJson(t)));
      }
    }
  }
  for (const char* key : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                          "maxLength", "minItems", "maxItems"}) {
    if (auto it = schema.find(key); it != schema.end() && !it->is_number()) {
      return Fail(path, absl::StrCat("'", key, "' must be a number"));
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && !it->is_array()) {
    return Fail(path, "'enum' must be a list");
  }
  if (auto it = schema.find("required"); it != schema.end()) {
    if (!it->is_array()) return Fail(path, "'required' must be a list of names");
    for (const Json& name : *it) {
      if (!name.is_string()) return Fail(path, "'required' must be a list of names");
    }
  }
  if (auto it = schema.find("properties"); it != schema.end()) {
    if (!it->is_object()) return Fail(path, "'properties' must be an object");
    for (auto p = it->begin(); p != it->end(); ++p) {
      absl::Status s = CheckSchema(p.value(), absl::StrCat(path, ".properties.", p.key()));
      if (!s.ok()) return s;
    }
  }
  if (auto it = schema.find("items"); it != schema.end()) {
    absl::Status s = CheckSchema(*it, absl::StrCat(path, ".items"));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace tessera::agents
