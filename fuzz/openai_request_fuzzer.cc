// The OpenAI-compatible HTTP API's request bodies (/v1/chat/completions and
// /v1/embeddings); errors must map to an OpenAI error object.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "fuzz/fuzz_util.h"
#include "gateway/openai_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body = tessera::fuzz::AsStringView(data, size);
  auto chat = tessera::gateway::ParseChatCompletionRequest(body);
  if (!chat.ok()) {
    TESSERA_FUZZ_CHECK(tessera::gateway::OpenAiErrorFromStatus(chat.status()).http_status == 400);
  }
  auto embeddings = tessera::gateway::ParseEmbeddingsRequest(body);
  if (!embeddings.ok()) {
    TESSERA_FUZZ_CHECK(
        tessera::gateway::OpenAiErrorFromStatus(embeddings.status()).http_status == 400);
  }
  return 0;
}
