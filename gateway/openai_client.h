// A client for OpenAI-compatible HTTP backends (OpenAI, vLLM, llama.cpp server,
// TGI, LiteLLM, ...): /chat/completions (whole or streamed over Server-Sent
// Events) and /embeddings, mapped to and from tessera.generation.v1 messages.
//
// libcurl underneath, with a pool of easy handles so connections (and TLS
// sessions) are reused across calls and threads. Retries 429, 5xx and
// connection errors with exponential backoff and jitter, honouring Retry-After.
// The API key is read from an environment variable named in the options and
// never appears in errors or logs.
#ifndef TESSERA_GATEWAY_OPENAI_CLIENT_H_
#define TESSERA_GATEWAY_OPENAI_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

struct OpenAiClientOptions {
  // Up to and including the version, as in OpenAI's SDKs:
  // "https://api.openai.com/v1", "http://127.0.0.1:8000/v1".
  std::string base_url;
  // Name of the environment variable with the API key ("OPENAI_API_KEY"); empty
  // for backends without authentication.
  std::string api_key_env;
  // Used when a request names no model.
  std::string default_model;
  // Whole-request limit (for streams: until the last byte).
  absl::Duration request_timeout = absl::Seconds(120);
  absl::Duration connect_timeout = absl::Seconds(10);
  // Retries after the first attempt, for 408/409/429/5xx and connection errors.
  int max_retries = 2;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(8);
  // A Retry-After longer than this fails the call at once instead of waiting.
  absl::Duration max_retry_after = absl::Seconds(60);
  // Send top_k and repetition_penalty (vLLM, llama.cpp accept them; OpenAI
  // rejects unknown parameters).
  bool extended_sampling = false;
  // How to wait between attempts; absl::SleepFor when empty. Tests record it.
  std::function<void(absl::Duration)> sleep;
};

// Called for each streamed piece; return false to cancel the stream.
using StreamCallback =
    std::function<bool(const tessera::generation::v1::GenerateStreamResponse&)>;

class OpenAiClient {
 public:
  // InvalidArgument for a malformed base_url; FailedPrecondition when
  // api_key_env names an unset variable.
  static absl::StatusOr<std::unique_ptr<OpenAiClient>> Create(OpenAiClientOptions options);
  ~OpenAiClient();

  OpenAiClient(const OpenAiClient&) = delete;
  OpenAiClient& operator=(const OpenAiClient&) = delete;

  // Thread-safe.
  absl::StatusOr<tessera::generation::v1::GenerateResponse> Generate(
      const tessera::generation::v1::GenerateRequest& request);

  // Streams the generation: pieces with tokens, then one final message with
  // finish_reason, usage, timings and any tool calls. Retries only before the
  // first piece was delivered. Cancelled when `on_chunk` returns false.
  absl::Status GenerateStream(const tessera::generation::v1::GenerateRequest& request,
                              const StreamCallback& on_chunk);

  absl::StatusOr<tessera::generation::v1::EmbedResponse> Embed(
      const tessera::generation::v1::EmbedRequest& request);

  struct Stats {
    int64_t attempts = 0;             // HTTP requests sent (including retries)
    int64_t retries = 0;
    int64_t connections_opened = 0;   // new TCP connections (reuse keeps this low)
  };
  Stats stats() const;

 private:
  struct HttpResult;
  struct Attempt;
  class HandlePool;

  OpenAiClient(OpenAiClientOptions options, std::string api_key);
  // One POST; `on_body` receives body bytes of 2xx responses when set.
  HttpResult Post(absl::string_view path, const std::string& body,
                  const std::function<bool(absl::string_view)>* on_body);
  // Runs `attempt` until it succeeds, fails for good, or retries run out.
  absl::Status WithRetries(const std::function<HttpResult()>& attempt,
                           const std::function<bool()>& may_retry, HttpResult* last);

  const OpenAiClientOptions options_;
  const std::string api_key_;
  std::unique_ptr<HandlePool> pool_;
  std::atomic<int64_t> attempts_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> connections_opened_{0};
};

// The JSON body of a chat completion request for `request` (exposed for tests).
nlohmann::json BuildChatCompletionBody(const tessera::generation::v1::GenerateRequest& request,
                                       const OpenAiClientOptions& options, bool stream);

// Maps a chat.completion JSON body to a GenerateResponse.
absl::StatusOr<tessera::generation::v1::GenerateResponse> ParseChatCompletionBody(
    absl::string_view body);

// Retry-After: delta-seconds ("2", "0.5") or an HTTP-date; nullopt when
// unparseable. Dates in the past give zero.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

// The Status for a non-2xx HTTP response, with the backend's error message.
absl::Status StatusFromHttp(int http_status, absl::string_view body);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_OPENAI_CLIENT_H_
