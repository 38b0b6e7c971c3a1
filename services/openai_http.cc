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

// A streamed generation outliving the handler that started it.
struct StreamCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<generation::v1::GenerateStreamResponse>> reader;
};

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
    // Server-sent events, each sent as soon as its chunk arrives. The first
    // chunk is awaited before answering, so refusals (401, 429, bad model)
    // still get their own HTTP status.
    auto call = std::make_shared<StreamCall>();
    call->context.set_deadline(std::chrono::system_clock::now() + kDeadline);
    ForwardCaller(request, &call->context);
    call->reader = stub->GenerateStream(&call->context, parsed->generate);
    generation::v1::GenerateStreamResponse first_chunk;
    HttpResponse response;
    response.content_type = "text/event-stream";
    if (!call->reader->Read(&first_chunk)) {
      grpc::Status status = call->reader->Finish();
      if (!status.ok()) return ErrorResponse(status, call->context);
      response.body = gateway::RenderStreamDone();  // an empty stream
      return response;
    }
    const bool include_usage = parsed->include_usage;
    response.stream = [call, completion, first_chunk, include_usage](
                          const std::function<bool(const std::string&)>& write) {
      generation::v1::GenerateStreamResponse chunk = first_chunk;
      bool first = true;
      bool open = true;
      do {
        open = write(gateway::RenderChatCompletionChunk(chunk, completion, first, include_usage));
        first = false;
      } while (open && call->reader->Read(&chunk));
      if (!open) {
        call->context.TryCancel();  // the client left: stop generating
        call->reader->Finish();
        return;
      }
      grpc::Status status = call->reader->Finish();
      if (!status.ok()) {
        // Headers are out: report the error as an event, as OpenAI does.
        write(absl::StrCat("data: ",
                           DumpJson({{"error",
                                      {{"message", status.error_message()},
                                       {"code", static_cast<int>(status.error_code())}}}}),
                           "\n\n"));
        return;
      }
      write(gateway::RenderStreamDone());
    };
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
