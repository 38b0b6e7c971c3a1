// The server side of an OpenAI-compatible HTTP API, as pure functions: parse
// /v1/chat/completions and /v1/embeddings bodies into tessera.generation.v1
// requests with strict validation, and render responses (JSON and SSE chunks)
// and errors in OpenAI's shapes. Mount them on any HTTP server.
#ifndef TESSERA_GATEWAY_OPENAI_API_H_
#define TESSERA_GATEWAY_OPENAI_API_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

struct ChatCompletionRequest {
  tessera::generation::v1::GenerateRequest generate;
  bool stream = false;
  // stream_options.include_usage: send a final chunk with usage.
  bool include_usage = false;
};

struct EmbeddingsRequest {
  tessera::generation::v1::EmbedRequest embed;
  bool base64 = false;  // encoding_format "base64"
};

// Parse errors are InvalidArgument with the offending parameter attached (see
// OpenAiErrorFromStatus), e.g. "messages[1].role".
absl::StatusOr<ChatCompletionRequest> ParseChatCompletionRequest(absl::string_view body);
absl::StatusOr<EmbeddingsRequest> ParseEmbeddingsRequest(absl::string_view body);

// Identifies one completion in rendered output.
struct CompletionContext {
  std::string id;  // "chatcmpl-..."
  int64_t created_unix_seconds = 0;
  std::string model;  // echoed as "model"
};

// A whole chat.completion object.
std::string RenderChatCompletion(const tessera::generation::v1::GenerateResponse& response,
                                 const CompletionContext& context);

// Streaming: one "data: {chat.completion.chunk}\n\n" per call. The first
// chunk of a stream carries the assistant role. A chunk with finish_reason set
// also carries tool calls; usage is sent as its own final chunk (empty choices)
// when `include_usage`. End with RenderStreamDone().
std::string RenderChatCompletionChunk(
    const tessera::generation::v1::GenerateStreamResponse& chunk, const CompletionContext& context,
    bool first_chunk, bool include_usage);
std::string RenderStreamDone();

std::string RenderEmbeddings(const tessera::generation::v1::EmbedResponse& response,
                             absl::string_view model, bool base64);

// An OpenAI error: HTTP status and {"error":{"message","type","param","code"}}.
struct OpenAiError {
  int http_status = 500;
  std::string body;
};

// Maps a Status from anywhere in the gateway to an OpenAI error:
// InvalidArgument 400 invalid_request_error, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, ResourceExhausted 429 rate_limit_exceeded,
// Unavailable 503, DeadlineExceeded 504, others 500.
OpenAiError OpenAiErrorFromStatus(const absl::Status& status);

// Attaches the "param" (and optionally "code") OpenAiErrorFromStatus reports.
absl::Status WithOpenAiParam(absl::Status status, absl::string_view param,
                             absl::string_view code = "");

// "stop", "length", "tool_calls", "content_filter"; null JSON for unspecified.
const char* FinishReasonName(tessera::generation::v1::FinishReason reason);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_OPENAI_API_H_
