#include "services/openai_http.h"

#include <grpcpp/client_context.h>

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/json.h"
#include "gateway/openai_api.h"
#include "tessera/generation/v1/generation.grpc.pb.h"

namespace tessera::services {
namespace {

constexpr auto kDeadline = std::chrono::minutes(10);

HttpResponse ErrorResponse(const absl::Status& status) {
  gateway::OpenAiError error = gateway::OpenAiErrorFromStatus(status);
  HttpResponse response;
  response.status = error.http_status;
  response.content_type = "application/json";
  response.body = error.body;
  return response;
}

// A failed call, with the router's retry hint as Retry-After (for 429s).
HttpResponse ErrorResponse(const grpc::Status& status, const grpc::ClientContext& context) {
  HttpResponse response = ErrorResponse(FromGrpcStatus(status));
  const auto& trailers = context.GetServerTrailingMetadata();
  auto retry_after = trailers.find("retry-after");
  if (retry_after != trailers.end()) {
    response.headers.emplace_back(
        "Retry-After", std::string(retry_after->second.data(), retry_after->second.size()));
  }
  return response;
}

// The caller's credentials and tenant travel on to the gRPC services, where
// the router authenticates them.
void ForwardCaller(const HttpRequest& request, grpc::ClientContext* context) {
  for (const char* header : {"authorization", "x-api-key", "x-tessera-tenant"}) {
    auto it = request.headers.find(header);
    if (it != request.headers.end() && !it->second.empty()) context->AddMetadata(header, it->second);
  }
}

HttpResponse JsonResponse(std::string body) {
  HttpResponse response;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

std::string CompletionId() {
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat("chatcmpl-", absl::ToUnixMicros(absl::Now()), "-", counter++);
}

}  // namespace

void MountOpenAiRoutes(HttpServer* http, std::shared_ptr<grpc::Channel> generation) {
  std::shared_ptr<generation::v1::GenerationService::Stub> stub =
      generation::v1::GenerationService::NewStub(generation);

  http->Route("POST", "/v1/chat/completions", [stub](const HttpRequest& request) {
    auto parsed = gateway::ParseChatCompletionRequest(request.body);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    gateway::CompletionContext completion;
    completion.id = CompletionId();
    completion.created_unix_seconds = absl::ToUnixSeconds(absl::Now());
    completion.model = parsed->generate.model();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kDeadline);
    ForwardCaller(request, &context);
    if (!parsed->stream) {
      generation::v1::GenerateResponse response;
      grpc::Status status = stub->Generate(&context, parsed->generate, &response);
      if (!status.ok()) return ErrorResponse(status, context);
      if (completion.model.empty()) completion.model = response.model();
      return JsonResponse(gateway::RenderChatCompletion(response, completion));
    }
    // Server-sent events; this HTTP server sends the whole stream when it ends.
    auto reader = stub->GenerateStream(&context, parsed->generate);
    HttpResponse response;
    response.content_type = "text/event-stream";
    generation::v1::GenerateStreamResponse chunk;
    bool first = true;
    while (reader->Read(&chunk)) {
      absl::StrAppend(&response.body, gateway::RenderChatCompletionChunk(
                                          chunk, completion, first, parsed->include_usage));
      first = false;
    }
    grpc::Status status = reader->Finish();
    if (!status.ok()) return ErrorResponse(status, context);
    absl::StrAppend(&response.body, gateway::RenderStreamDone());
    return response;
  });

  http->Route("POST", "/v1/embeddings", [stub](const HttpRequest& request) {
    auto parsed = gateway::ParseEmbeddingsRequest(request.body);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kDeadline);
    ForwardCaller(request, &context);
    generation::v1::EmbedResponse response;
    grpc::Status status = stub->Embed(&context, parsed->embed, &response);
    if (!status.ok()) return ErrorResponse(status, context);
    return JsonResponse(gateway::RenderEmbeddings(
        response, parsed->embed.model().empty() ? response.model() : parsed->embed.model(),
        parsed->base64));
  });

  http->Route("GET", "/v1/models", [stub](const HttpRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ForwardCaller(request, &context);
    generation::v1::ListModelsResponse response;
    grpc::Status status = stub->ListModels(&context, {}, &response);
    if (!status.ok()) return ErrorResponse(status, context);
    Json list = {{"object", "list"}, {"data", Json::array()}};
    for (const auto& model : response.models()) {
      list["data"].push_back({{"id", model.name()},
                              {"object", "model"},
                              {"owned_by", "tessera"},
                              {"tessera_role", model.role()}});
    }
    return JsonResponse(DumpJson(list));
  });
}

}  // namespace tessera::services
