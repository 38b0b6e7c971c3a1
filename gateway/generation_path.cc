#include "gateway/generation_path.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::EmbedRequest;
using tessera::generation::v1::EmbedResponse;
using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;
using tessera::generation::v1::GenerateStreamResponse;

// Output tokens assumed when a request sets no max_tokens.
constexpr int64_t kDefaultMaxTokens = 256;

// About four bytes of English per token: enough to admit or refuse a request
// before the backend tokenizes it; Settle corrects the bucket afterwards.
int64_t EstimateTokens(const GenerateRequest& request) {
  size_t bytes = request.prompt().size();
  for (const auto& message : request.messages()) bytes += message.content().size() + 4;
  const int64_t max_tokens =
      request.sampling().max_tokens() > 0 ? request.sampling().max_tokens() : kDefaultMaxTokens;
  return static_cast<int64_t>(bytes / 4) + 1 + max_tokens;
}

absl::Time DeadlineOf(const grpc::ServerContextBase* context) {
  if (context == nullptr) return absl::InfiniteFuture();
  const absl::Time deadline = absl::FromChrono(context->deadline());
  // gRPC reports "no deadline" as the far future.
  return deadline > absl::Now() + absl::Hours(24 * 365) ? absl::InfiniteFuture() : deadline;
}

}  // namespace

RoutedCall GenerationPath::CallFor(const GenerateRequest& request,
                                   const grpc::ServerContextBase* context) const {
  RoutedCall call;
  call.sticky_key = request.user();
  call.request_id = request.request_id();
  call.backend.parent = context;
  call.backend.deadline = DeadlineOf(context);
  return call;
}

absl::StatusOr<int64_t> GenerationPath::AdmitTokens(absl::string_view tenant,
                                                    const GenerateRequest& request,
                                                    grpc::ServerContextBase* context) const {
  const int64_t estimate = EstimateTokens(request);
  if (parts_.limiter == nullptr) return estimate;
  RateDecision decision = parts_.limiter->AcquireTokens(tenant, estimate);
  if (decision.allowed) return estimate;
  std::string when = "the budget does not reset";
  if (decision.retry_after != absl::InfiniteDuration()) {
    const int64_t millis =
        static_cast<int64_t>(std::ceil(absl::ToDoubleMilliseconds(decision.retry_after)));
    if (context != nullptr) {
      context->AddTrailingMetadata("retry-after", absl::StrCat((millis + 999) / 1000));
      context->AddTrailingMetadata("retry-after-ms", absl::StrCat(millis));
    }
    when = absl::StrCat("retry after ", (millis + 999) / 1000, "s");
  }
  return absl::ResourceExhaustedError(absl::StrCat("tenant \"", tenant, "\" is over its ",
                                                   RateLimitReasonName(decision.reason),
                                                   " limit; ", when));
}

void GenerationPath::Account(absl::string_view tenant, const std::string& backend,
                             int64_t estimated_tokens, tessera::common::v1::Usage* usage) const {
  if (usage->total_tokens() == 0) {
    usage->set_total_tokens(usage->prompt_tokens() + usage->completion_tokens());
  }
  usage->set_cost_micros(parts_.router->CostMicros(backend, *usage));
  if (parts_.limiter != nullptr) {
    parts_.limiter->Settle(tenant, estimated_tokens, usage->total_tokens(), usage->cost_micros());
  }
  if (parts_.usage != nullptr) parts_.usage->RecordUsage(tenant, *usage);
}

std::optional<GenerateResponse> GenerationPath::LookupSimilar(absl::string_view tenant,
                                                             const GenerateRequest& request,
                                                             int64_t estimated_tokens,
                                                             ServedBy* served,
                                                             SemanticCache::Probe* probe) const {
  if (parts_.semantic_cache == nullptr) return std::nullopt;
  const std::string route = parts_.router->RouteNameFor(request.model());
  if (!parts_.semantic_cache->Covers(route)) return std::nullopt;
  auto similar = parts_.semantic_cache->Lookup(route, tenant, request, probe);
  if (!similar) return std::nullopt;
  served->backend = kSemanticCacheBackend;
  served->route = route;
  // A cached answer costs nothing; give the tokens back.
  if (parts_.limiter != nullptr) parts_.limiter->Settle(tenant, estimated_tokens, 0, 0);
  similar->mutable_usage()->set_cost_micros(0);
  return similar;
}

absl::StatusOr<GenerateResponse> GenerationPath::Generate(absl::string_view tenant,
                                                          const GenerateRequest& request,
                                                          int64_t estimated_tokens,
                                                          const grpc::ServerContextBase* context,
                                                          ServedBy* served,
                                                          bool* cache_hit) const {
  *cache_hit = false;
  if (parts_.cache != nullptr) {
    if (auto cached = parts_.cache->Lookup(tenant, request)) {
      *cache_hit = true;
      served->backend = "cache";
      served->route = parts_.router->IsRoute(request.model()) ? request.model() : "";
      cached->set_request_id(request.request_id());
      // A cached answer costs nothing; give the tokens back.
      if (parts_.limiter != nullptr) parts_.limiter->Settle(tenant, estimated_tokens, 0, 0);
      cached->mutable_usage()->set_cost_micros(0);
      return *std::move(cached);
    }
  }
  SemanticCache::Probe probe;
  if (auto similar = LookupSimilar(tenant, request, estimated_tokens, served, &probe)) {
    *cache_hit = true;
    similar->set_request_id(request.request_id());
    return *std::move(similar);
  }
  auto response = parts_.router->Generate(request, CallFor(request, context), served);
  if (!response.ok()) {
    if (parts_.limiter != nullptr) parts_.limiter->Settle(tenant, estimated_tokens, 0, 0);
    return response.status();
  }
  if (response->request_id().empty()) response->set_request_id(request.request_id());
  Account(tenant, served->backend, estimated_tokens, response->mutable_usage());
  if (parts_.cache != nullptr) parts_.cache->Insert(tenant, request, *response);
  if (parts_.semantic_cache != nullptr && !probe.route.empty()) {
    parts_.semantic_cache->Insert(probe, *response);
  }
  return response;
}

absl::Status GenerationPath::GenerateStream(absl::string_view tenant,
                                            const GenerateRequest& request,
                                            int64_t estimated_tokens,
                                            const grpc::ServerContextBase* context,
                                            const StreamCallback& on_chunk,
                                            ServedBy* served) const {
  SemanticCache::Probe probe;
  if (auto similar = LookupSimilar(tenant, request, estimated_tokens, served, &probe)) {
    // The whole earlier answer as one piece, then the closing message.
    GenerateStreamResponse piece;
    piece.set_request_id(request.request_id());
    piece.add_tokens()->set_text(similar->text());
    GenerateStreamResponse last;
    last.set_request_id(request.request_id());
    last.set_finish_reason(similar->finish_reason());
    *last.mutable_tool_calls() = similar->tool_calls();
    *last.mutable_usage() = similar->usage();
    if (!similar->text().empty() && !on_chunk(piece)) return absl::OkStatus();
    on_chunk(last);
    return absl::OkStatus();
  }
  // What the stream said, for the semantic cache once it ends well.
  GenerateResponse streamed;
  bool accounted = false;
  absl::Status status = parts_.router->GenerateStream(
      request, CallFor(request, context),
      [&](const GenerateStreamResponse& chunk) {
        for (const auto& token : chunk.tokens()) streamed.mutable_text()->append(token.text());
        if (chunk.finish_reason() == tessera::generation::v1::FINISH_REASON_UNSPECIFIED) {
          return on_chunk(chunk);
        }
        GenerateStreamResponse last = chunk;
        Account(tenant, served->backend, estimated_tokens, last.mutable_usage());
        accounted = true;
        streamed.set_finish_reason(last.finish_reason());
        *streamed.mutable_usage() = last.usage();
        *streamed.mutable_tool_calls() = last.tool_calls();
        return on_chunk(last);
      },
      served);
  if (!accounted && parts_.limiter != nullptr) {
    parts_.limiter->Settle(tenant, estimated_tokens, 0, 0);
  }
  const bool finished = streamed.finish_reason() == tessera::generation::v1::STOP ||
                        streamed.finish_reason() == tessera::generation::v1::LENGTH;
  if (status.ok() && finished && parts_.semantic_cache != nullptr && !probe.route.empty()) {
    streamed.set_model(served->model);
    parts_.semantic_cache->Insert(probe, streamed);
  }
  return status;
}

absl::StatusOr<EmbedResponse> GenerationPath::Embed(absl::string_view tenant,
                                                    const EmbedRequest& request,
                                                    const grpc::ServerContextBase* context,
                                                    ServedBy* served, bool* cache_hit) const {
  *cache_hit = false;
  // Embeddings are deterministic: the same inputs always give the same vectors.
  const std::string key = ResponseCache::MessageKey("generation.Embed", request);
  EmbedResponse response;
  if (parts_.cache != nullptr && parts_.cache->LookupMessage(tenant, key, &response)) {
    *cache_hit = true;
    served->backend = "cache";
    response.mutable_usage()->set_cost_micros(0);
    return response;
  }
  RoutedCall call;
  call.backend.parent = context;
  call.backend.deadline = DeadlineOf(context);
  auto embedded = parts_.router->Embed(request, call, served);
  if (!embedded.ok()) return embedded.status();
  auto* usage = embedded->mutable_usage();
  usage->set_cost_micros(parts_.router->CostMicros(served->backend, *usage));
  if (parts_.limiter != nullptr) {
    parts_.limiter->Settle(tenant, 0, 0, usage->cost_micros());
  }
  if (parts_.usage != nullptr) parts_.usage->RecordUsage(tenant, *usage);
  if (parts_.cache != nullptr) parts_.cache->InsertMessage(tenant, key, *embedded);
  return embedded;
}

void GenerationPath::ReportCompleted(absl::string_view tenant, const ServedBy& served,
                                     std::string request_id, std::string prompt,
                                     std::string output, bool cache_hit) const {
  if (parts_.traffic_observer == nullptr) return;
  CompletedExchange exchange;
  exchange.tenant = std::string(tenant);
  exchange.request_id = std::move(request_id);
  exchange.route = served.route;
  exchange.variant = served.backend;
  exchange.model = served.model;
  exchange.prompt = std::move(prompt);
  exchange.output = std::move(output);
  exchange.cache_hit = cache_hit;
  parts_.traffic_observer->OnCompleted(exchange);
}

void GenerationPath::AddTrailers(grpc::ServerContextBase* context, const ServedBy& served,
                                 bool cache_hit, const std::vector<std::string>& guardrail_actions) {
  if (context == nullptr) return;
  if (!served.backend.empty()) context->AddTrailingMetadata(kServedByTrailer, served.backend);
  if (!served.route.empty()) context->AddTrailingMetadata(kRouteTrailer, served.route);
  context->AddTrailingMetadata(kCacheTrailer, cache_hit ? "hit" : "miss");
  if (!guardrail_actions.empty()) {
    context->AddTrailingMetadata(kGuardrailsTrailer, absl::StrJoin(guardrail_actions, ";"));
  }
}

}  // namespace tessera::gateway
