#include "agents/state.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace tessera::agents {

using ::tessera::agents::v1::Channel;

const char* ChannelTypeName(ChannelType type) {
  switch (type) {
    case Channel::MESSAGES: return "MESSAGES";
    case Channel::STRING: return "STRING";
    case Channel::NUMBER: return "NUMBER";
    case Channel::LIST: return "LIST";
    case Channel::JSON: return "JSON";
    default: return "TYPE_UNSPECIFIED";
  }
}

const char* ReducerName(ChannelReducer reducer) {
  switch (reducer) {
    case Channel::APPEND: return "APPEND";
    case Channel::MERGE: return "MERGE";
    default: return "REPLACE";
  }
}

namespace {

Json ZeroValue(ChannelType type) {
  switch (type) {
    case Channel::MESSAGES:
    case Channel::LIST: return Json::array();
    case Channel::STRING: return "";
    case Channel::NUMBER: return 0;
    default: return Json::object();
  }
}

bool IsMessage(const Json& value) {
  if (!value.is_object()) return false;
  auto role = value.find("role");
  auto content = value.find("content");
  return role != value.end() && role->is_string() && content != value.end() &&
         (content->is_string() || content->is_null());
}

// On MESSAGES channels a plain string stands for an assistant message.
Json NormalizeMessage(const Json& value) {
  if (value.is_string()) return Json{{"role", "assistant"}, {"content", value}};
  return value;
}

}  // namespace

absl::Status CheckValueType(const ChannelSpec& channel, const Json& value) {
  auto mismatch = [&](absl::string_view expected) {
    return absl::InvalidArgumentError(absl::StrCat("channel '", channel.name, "' (",
                                                   ChannelTypeName(channel.type), ") expects ", expected,
                                                   ", got ", JsonTypeName(value)));
  };
  switch (channel.type) {
    case Channel::STRING:
      return value.is_string() ? absl::OkStatus() : mismatch("a string");
    case Channel::NUMBER:
      return value.is_number() ? absl::OkStatus() : mismatch("a number");
    case Channel::LIST:
      return value.is_array() ? absl::OkStatus() : mismatch("a list");
    case Channel::MESSAGES:
      if (!value.is_array()) return mismatch("a list of messages");
      for (const Json& item : value) {
        if (!IsMessage(item)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "channel '", channel.name, "' (MESSAGES) expects messages {\"role\", \"content\"}, got ",
              DumpJson(item).substr(0, 80)));
        }
      }
      return absl::OkStatus();
    case Channel::JSON:
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat("channel '", channel.name, "' has no type"));
  }
}

absl::StatusOr<ChannelSpec> MakeChannelSpec(const Channel& channel) {
  ChannelSpec spec;
  spec.name = channel.name();
  if (spec.name.empty()) return absl::InvalidArgumentError("a channel has an empty name");
  if (channel.type() == Channel::TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat("channel '", spec.name, "': type is not set"));
  }
  spec.type = channel.type();
  spec.reducer = channel.reducer() == Channel::REDUCER_UNSPECIFIED ? Channel::REPLACE : channel.reducer();
  if (spec.reducer == Channel::APPEND && spec.type != Channel::LIST && spec.type != Channel::MESSAGES) {
    return absl::InvalidArgumentError(absl::StrCat("channel '", spec.name, "': APPEND reducer needs a LIST or MESSAGES channel, not ",
                                                   ChannelTypeName(spec.type)));
  }
  if (spec.reducer == Channel::MERGE && spec.type != Channel::JSON) {
    return absl::InvalidArgumentError(absl::StrCat("channel '", spec.name, "': MERGE reducer needs a JSON channel, not ",
                                                   ChannelTypeName(spec.type)));
  }
  if (channel.has_default_value()) {
    spec.default_value = ValueToJson(channel.default_value());
    if (spec.type == Channel::MESSAGES && spec.default_value.is_array()) {
      for (Json& item : spec.default_value) item = NormalizeMessage(item);
    }
    absl::Status status = CheckValueType(spec, spec.default_value);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("default value: ", status.message()));
    }
  } else {
    spec.default_value = ZeroValue(spec.type);
  }
  return spec;
}

absl::Status StateSchema::AddChannel(ChannelSpec spec) {
  std::string name = spec.name;
  if (!channels_.emplace(name, std::move(spec)).second) {
    return absl::InvalidArgumentError(absl::StrCat("duplicate channel '", name, "'"));
  }
  return absl::OkStatus();
}

const ChannelSpec* StateSchema::Find(const std::string& name) const {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : &it->second;
}

Json StateSchema::InitialState() const {
  Json state = Json::object();
  for (const auto& [name, spec] : channels_) state[name] = spec.default_value;
  return state;
}

absl::Status StateSchema::Apply(const std::string& channel, const Json& update, Json* state) const {
  const ChannelSpec* spec = Find(channel);
  if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown channel '", channel, "'"));
  Json& current = (*state)[channel];
  switch (spec->reducer) {
    case Channel::APPEND: {
      Json items = update.is_array() ? update : Json::array({update});
      if (spec->type == Channel::MESSAGES) {
        for (Json& item : items) item = NormalizeMessage(item);
      }
      absl::Status status = CheckValueType(*spec, items);
      if (!status.ok()) return status;
      if (!current.is_array()) current = Json::array();
      for (Json& item : items) current.push_back(std::move(item));
      return absl::OkStatus();
    }
    case Channel::MERGE: {
      if (!update.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat("channel '", channel, "' (MERGE) expects an object, got ",
                                                       JsonTypeName(update)));
      }
      if (!current.is_object()) current = Json::object();
      for (auto it = update.begin(); it != update.end(); ++it) current[it.key()] = it.value();
      return absl::OkStatus();
    }
    default: {
      Json value = update;
      if (spec->type == Channel::MESSAGES) {
        if (value.is_string() || IsMessage(value)) value = Json::array({value});
        for (Json& item : value) item = NormalizeMessage(item);
      }
      absl::Status status = CheckValueType(*spec, value);
      if (!status.ok()) return status;
      current = std::move(value);
      return absl::OkStatus();
    }
  }
}

absl::Status StateSchema::ApplyAll(const Json& updates, Json* state) const {
  if (!updates.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("state update must be an object, got ", JsonTypeName(updates)));
  }
  for (auto it = updates.begin(); it != updates.end(); ++it) {
    absl::Status status = Apply(it.key(), it.value(), state);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace tessera::agents
