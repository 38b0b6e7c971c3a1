// The agents' expression language (conditions) and templates, parsed and
// evaluated against a state with every JSON type.
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "agents/expression.h"
#include "common/json.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tessera::Json* const state = new tessera::Json(tessera::Json::parse(R"({
    "count": 2, "ratio": 0.5, "big": 9007199254740993, "negative": -7,
    "answer": "yes", "empty": "", "flag": true, "nothing": null,
    "docs": [{"text": "a", "score": 1}, {"text": "b"}], "numbers": [1, 2, 3],
    "user": {"name": "Ada", "roles": ["admin"]},
    "messages": [{"role": "user", "content": "hi"}]
  })"));
  const absl::string_view text = tessera::fuzz::AsStringView(data, size);
  absl::StatusOr<tessera::agents::Expression> expression =
      tessera::agents::Expression::Parse(text);
  if (expression.ok()) {
    (void)expression->Evaluate(*state);
    (void)expression->EvaluateCondition(*state);
  }
  absl::StatusOr<tessera::agents::Template> rendered = tessera::agents::Template::Parse(text);
  if (rendered.ok()) {
    (void)rendered->Render(*state);
    (void)rendered->ReferencedChannels();
  }
  return 0;
}
