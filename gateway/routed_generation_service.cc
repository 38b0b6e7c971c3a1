#include "gateway/routed_generation_service.h"

#include "common/grpc_status.h"
#include "common/tenant.h"

namespace tessera::gateway {
namespace {

std::string PromptText(const generation::v1::GenerateRequest& request) {
  if (request.messages_size() == 0) return request.prompt();
  std::string text;
  for (const auto& message : request.messages()) {
    text += message.role() + ": " + message.content() + "\n";
  }
  return text;
}

}  // namespace

using generation::v1::GenerateRequest;
using generation::v1::GenerateResponse;
using generation::v1::GenerateStreamResponse;

grpc::Status RoutedGenerationService::Generate(grpc::ServerContext* context,
                                               const GenerateRequest* request,
                                               GenerateResponse* response) {
  const std::string tenant = TenantOf(*context);
  GenerateRequest routed = *request;
  GuardrailReport report;
  absl::Status guarded = path_.parts().guardrails->ApplyToRequest(&routed, &report);
  if (!guarded.ok()) return ToGrpcStatus(guarded);
  auto estimate = path_.AdmitTokens(tenant, routed, context);
  if (!estimate.ok()) return ToGrpcStatus(estimate.status());
  ServedBy served;
  bool cache_hit = false;
  auto generated = path_.Generate(tenant, routed, *estimate, context, &served, &cache_hit);
  if (!generated.ok()) return ToGrpcStatus(generated.status());
  *response = std::move(*generated);
  path_.ReportCompleted(tenant, served,
                        response->request_id().empty() ? routed.request_id() : response->request_id(),
                        PromptText(routed), response->text(), cache_hit);
  if (path_.parts().guardrails->active()) {
    const size_t actions_before = report.actions.size();
    response->set_text(path_.parts().guardrails->ApplyToOutput(response->text(), &report));
    // The token pieces would still carry what the output guardrail redacted.
    for (size_t i = actions_before; i < report.actions.size(); ++i) {
      if (report.actions[i].rfind("output_pii_masked", 0) == 0) response->clear_tokens();
    }
  }
  GenerationPath::AddTrailers(context, served, cache_hit, report.actions);
  return grpc::Status::OK;
}

grpc::Status RoutedGenerationService::GenerateStream(
    grpc::ServerContext* context, const GenerateRequest* request,
    grpc::ServerWriter<GenerateStreamResponse>* writer) {
  const std::string tenant = TenantOf(*context);
  GenerateRequest routed = *request;
  GuardrailReport report;
  const GuardrailPolicy& guardrails = *path_.parts().guardrails;
  absl::Status guarded = guardrails.ApplyToRequest(&routed, &report);
  if (!guarded.ok()) return ToGrpcStatus(guarded);
  auto estimate = path_.AdmitTokens(tenant, routed, context);
  if (!estimate.ok()) return ToGrpcStatus(estimate.status());

  // Placeholders split across pieces are held back until complete.
  StreamUnmasker unmasker(&report.vault);
  const bool unmask = report.vault.size() > 0;
  std::string streamed;
  std::string backend_text;  // before unmasking, for the traffic observer
  std::string request_id;
  ServedBy served;
  absl::Status status = path_.GenerateStream(
      tenant, routed, *estimate, context,
      [&](const GenerateStreamResponse& chunk) {
        if (request_id.empty()) request_id = chunk.request_id();
        for (const auto& token : chunk.tokens()) backend_text += token.text();
        if (!unmask) {
          for (const auto& token : chunk.tokens()) streamed += token.text();
          return writer->Write(chunk);
        }
        std::string pieces;
        for (const auto& token : chunk.tokens()) pieces += token.text();
        std::string ready = unmasker.Feed(pieces);
        if (chunk.finish_reason() != generation::v1::FINISH_REASON_UNSPECIFIED) {
          ready += unmasker.Finish();
        }
        GenerateStreamResponse out = chunk;
        out.clear_tokens();
        if (!ready.empty()) {
          auto* token = out.add_tokens();
          token->set_text(ready);
          if (chunk.tokens_size() > 0) token->set_token_id(chunk.tokens(0).token_id());
        }
        streamed += ready;
        if (out.tokens_size() == 0 &&
            out.finish_reason() == generation::v1::FINISH_REASON_UNSPECIFIED) {
          return true;  // everything held back for now
        }
        return writer->Write(out);
      },
      &served);
  if (!status.ok()) return ToGrpcStatus(status);
  path_.ReportCompleted(tenant, served, request_id.empty() ? routed.request_id() : request_id,
                        PromptText(routed), std::move(backend_text), false);
  guardrails.CheckStreamedOutput(streamed, &report);
  GenerationPath::AddTrailers(context, served, false, report.actions);
  return grpc::Status::OK;
}

grpc::Status RoutedGenerationService::Embed(grpc::ServerContext* context,
                                            const generation::v1::EmbedRequest* request,
                                            generation::v1::EmbedResponse* response) {
  ServedBy served;
  bool cache_hit = false;
  auto embedded = path_.Embed(TenantOf(*context), *request, context, &served, &cache_hit);
  if (!embedded.ok()) return ToGrpcStatus(embedded.status());
  *response = std::move(*embedded);
  GenerationPath::AddTrailers(context, served, cache_hit, {});
  return grpc::Status::OK;
}

grpc::Status RoutedGenerationService::Score(grpc::ServerContext* context,
                                            const generation::v1::ScoreRequest* request,
                                            generation::v1::ScoreResponse* response) {
  return local_->Score(context, request, response);
}

grpc::Status RoutedGenerationService::Tokenize(grpc::ServerContext* context,
                                               const generation::v1::TokenizeRequest* request,
                                               generation::v1::TokenizeResponse* response) {
  return local_->Tokenize(context, request, response);
}

grpc::Status RoutedGenerationService::ListModels(grpc::ServerContext* context,
                                                 const generation::v1::ListModelsRequest* request,
                                                 generation::v1::ListModelsResponse* response) {
  grpc::Status status = local_->ListModels(context, request, response);
  if (!status.ok()) return status;
  for (const auto& route : path_.parts().router->Routes()) {
    auto* model = response->add_models();
    model->set_name(route.name());
    model->set_role("route");
    model->set_architecture("router");
  }
  return grpc::Status::OK;
}

}  // namespace tessera::gateway
