// Typed state channels and their reducers. The state is a JSON object with one
// member per declared channel; nodes produce updates that reducers fold in:
//   REPLACE: the update becomes the value (any channel type).
//   APPEND:  LIST / MESSAGES only; a list update is concatenated, anything else
//            is pushed as one item. On MESSAGES a plain string becomes an
//            {"role":"assistant","content":...} message.
//   MERGE:   JSON only; the update must be an object and its keys overwrite
//            (shallow merge, like dict.update).
// Every write is type-checked against the channel type.
#ifndef TESSERA_AGENTS_STATE_H_
#define TESSERA_AGENTS_STATE_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json.h"
#include "tessera/agents/v1/agents.pb.h"

namespace tessera::agents {

using ChannelType = ::tessera::agents::v1::Channel::Type;
using ChannelReducer = ::tessera::agents::v1::Channel::Reducer;

struct ChannelSpec {
  std::string name;
  ChannelType type = ::tessera::agents::v1::Channel::JSON;
  ChannelReducer reducer = ::tessera::agents::v1::Channel::REPLACE;
  Json default_value;  // Already type-checked; the type's zero value when unset.
};

const char* ChannelTypeName(ChannelType type);
const char* ReducerName(ChannelReducer reducer);

// Checks the channel declaration (type set, reducer allowed for the type,
// default value of the right type) and fills in the default.
absl::StatusOr<ChannelSpec> MakeChannelSpec(const ::tessera::agents::v1::Channel& channel);

// Whether `value` may be stored in a channel of `type` (after APPEND wrapping).
absl::Status CheckValueType(const ChannelSpec& channel, const Json& value);

// Channel name -> spec, plus state construction and updates.
class StateSchema {
 public:
  absl::Status AddChannel(ChannelSpec spec);
  const ChannelSpec* Find(const std::string& name) const;
  const std::map<std::string, ChannelSpec>& channels() const { return channels_; }

  // Every channel at its default.
  Json InitialState() const;
  // Folds `update` into `state[channel]` with the channel's reducer.
  absl::Status Apply(const std::string& channel, const Json& update, Json* state) const;
  // Applies an object of channel -> update; unknown channels are an error.
  absl::Status ApplyAll(const Json& updates, Json* state) const;

 private:
  std::map<std::string, ChannelSpec> channels_;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_STATE_H_
