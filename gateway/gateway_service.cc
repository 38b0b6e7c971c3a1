#include "gateway/gateway_service.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "common/tenant.h"
#include "gateway/grpc_gate.h"

namespace tessera::gateway {
namespace {

using generation::v1::GenerateRequest;
using generation::v1::GenerateStreamResponse;

constexpr size_t kMaxQuestionBytes = 32 << 10;
// Retrieved passages are cut to this many bytes in the prompt.
constexpr size_t kSnippetBytes = 600;
constexpr int kDefaultTopK = 4;
constexpr char kInstructions[] =
    "Answer from the numbered sources, citing them as [n]. If they lack the answer, say so.";

std::string NewRequestId() {
  thread_local absl::BitGen random;
  return absl::StrFormat("ask-%016x", absl::Uniform<uint64_t>(random));
}

// At most `bytes`, cut at a UTF-8 character boundary.
std::string Truncate(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

}  // namespace

struct GatewayServiceImpl::Prepared {
  std::string tenant;
  GenerateRequest generate;  // what the model sees (masked when configured)
  GuardrailReport report;
  std::string masked_question;  // the question as the model sees it (online evaluation)
  std::vector<v1::Citation> citations;  // the caller's view (unmasked)
  int64_t estimated_tokens = 0;
};

absl::StatusOr<GatewayServiceImpl::Prepared> GatewayServiceImpl::Prepare(
    grpc::ServerContext* context, const v1::AskRequest& request) {
  if (request.question().empty()) return absl::InvalidArgumentError("question is required");
  if (request.question().size() > kMaxQuestionBytes) {
    return absl::InvalidArgumentError("question is longer than 32 KiB");
  }
  Prepared prepared;
  prepared.tenant = TenantOf(*context);
  const GuardrailPolicy& guardrails = *path_.parts().guardrails;

  std::string question = request.question();
  std::vector<tessera::common::v1::Message> history(request.history().begin(),
                                                    request.history().end());
  std::vector<std::string*> caller_texts = {&question};
  for (auto& message : history) caller_texts.push_back(message.mutable_content());
  absl::Status guarded = guardrails.ApplyToInput(caller_texts, &prepared.report);
  if (!guarded.ok()) return guarded;

  std::vector<std::string> passages;
  if (!request.collection().empty()) {
    retrieval::v1::SearchRequest search = request.search();
    search.set_collection(request.collection());
    if (search.query().empty()) search.set_query(request.question());
    if (search.top_k() == 0) search.set_top_k(kDefaultTopK);
    search.set_include_text(true);
    retrieval::v1::SearchResponse hits;
    grpc::Status searched = retrieval_->Search(context, &search, &hits);
    if (!searched.ok()) {
      absl::Status status = FromGrpcStatus(searched);
      return absl::Status(status.code(), absl::StrCat("retrieval: ", status.message()));
    }
    for (int i = 0; i < hits.hits_size(); ++i) {
      const auto& hit = hits.hits(i);
      v1::Citation citation;
      citation.set_index(i + 1);
      *citation.mutable_provenance() = hit.provenance();
      citation.set_snippet(Truncate(hit.text(), kSnippetBytes));
      passages.push_back(citation.snippet());
      prepared.citations.push_back(std::move(citation));
    }
  }
  std::vector<std::string*> context_texts;
  for (std::string& passage : passages) context_texts.push_back(&passage);
  guardrails.MaskContext(context_texts, &prepared.report);

  std::string system = kInstructions;
  if (passages.empty()) {
    absl::StrAppend(&system, "\n\nNo sources were found.");
  } else {
    absl::StrAppend(&system, "\n\nSources:");
    for (size_t i = 0; i < passages.size(); ++i) {
      const std::string& title = prepared.citations[i].provenance().title();
      absl::StrAppend(&system, "\n[", i + 1, "] ", title.empty() ? "" : title + ": ", passages[i]);
    }
  }
  GenerateRequest& generate = prepared.generate;
  generate.set_model(request.route());
  generate.set_request_id(request.request_id().empty() ? NewRequestId() : request.request_id());
  generate.set_user(request.session_id());
  *generate.mutable_sampling() = request.sampling();
  auto* instructions = generate.add_messages();
  instructions->set_role("system");
  instructions->set_content(system);
  for (auto& message : history) *generate.add_messages() = std::move(message);
  auto* user = generate.add_messages();
  user->set_role("user");
  user->set_content(question);
  prepared.masked_question = std::move(question);

  auto estimate = path_.AdmitTokens(prepared.tenant, generate, context);
  if (!estimate.ok()) return estimate.status();
  prepared.estimated_tokens = *estimate;
  return prepared;
}

grpc::Status GatewayServiceImpl::Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                                     v1::AskResponse* response) {
  auto prepared = Prepare(context, *request);
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  ServedBy served;
  bool cache_hit = false;
  auto generated = path_.Generate(prepared->tenant, prepared->generate, prepared->estimated_tokens,
                                  context, &served, &cache_hit);
  if (!generated.ok()) return ToGrpcStatus(generated.status());
  path_.ReportCompleted(prepared->tenant, served, prepared->generate.request_id(),
                        prepared->masked_question, generated->text(), cache_hit);
  response->set_request_id(prepared->generate.request_id());
  response->set_answer(path_.parts().guardrails->ApplyToOutput(generated->text(), &prepared->report));
  for (auto& citation : prepared->citations) *response->add_citations() = std::move(citation);
  response->set_served_by(served.backend);
  response->set_cache_hit(cache_hit);
  *response->mutable_usage() = generated->usage();
  for (const std::string& action : prepared->report.actions) response->add_guardrail_actions(action);
  GenerationPath::AddTrailers(context, served, cache_hit, prepared->report.actions);
  return grpc::Status::OK;
}

grpc::Status GatewayServiceImpl::AskStream(grpc::ServerContext* context,
                                           const v1::AskRequest* request,
                                           grpc::ServerWriter<v1::AskStreamResponse>* writer) {
  auto prepared = Prepare(context, *request);
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  v1::AskStreamResponse first;
  for (const auto& citation : prepared->citations) *first.add_citations() = citation;
  if (!writer->Write(first)) return grpc::Status(grpc::StatusCode::CANCELLED, "caller went away");

  StreamUnmasker unmasker(&prepared->report.vault);
  std::string answer;
  std::string backend_answer;  // before unmasking, for the traffic observer
  tessera::common::v1::Usage usage;
  ServedBy served;
  absl::Status status = path_.GenerateStream(
      prepared->tenant, prepared->generate, prepared->estimated_tokens, context,
      [&](const GenerateStreamResponse& chunk) {
        std::string pieces;
        for (const auto& token : chunk.tokens()) pieces += token.text();
        backend_answer += pieces;
        std::string ready = unmasker.Feed(pieces);
        if (chunk.finish_reason() != generation::v1::FINISH_REASON_UNSPECIFIED) {
          ready += unmasker.Finish();
          usage = chunk.usage();
        }
        if (ready.empty()) return true;
        answer += ready;
        v1::AskStreamResponse piece;
        piece.set_text(ready);
        return writer->Write(piece);
      },
      &served);
  if (!status.ok()) return ToGrpcStatus(status);
  path_.ReportCompleted(prepared->tenant, served, prepared->generate.request_id(),
                        prepared->masked_question, std::move(backend_answer), false);
  path_.parts().guardrails->CheckStreamedOutput(answer, &prepared->report);
  v1::AskStreamResponse last;
  v1::AskResponse* final = last.mutable_final();
  final->set_request_id(prepared->generate.request_id());
  final->set_answer(answer);
  for (const auto& citation : prepared->citations) *final->add_citations() = citation;
  final->set_served_by(served.backend);
  *final->mutable_usage() = usage;
  for (const std::string& action : prepared->report.actions) final->add_guardrail_actions(action);
  GenerationPath::AddTrailers(context, served, false, prepared->report.actions);
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status GatewayServiceImpl::SubmitFeedback(grpc::ServerContext* context,
                                                const v1::SubmitFeedbackRequest* request,
                                                v1::SubmitFeedbackResponse* response) {
  if (path_.parts().feedback == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "feedback is not stored here");
  }
  auto id = path_.parts().feedback->Submit(TenantOf(*context), request->feedback());
  if (!id.ok()) return ToGrpcStatus(id.status());
  response->set_id(*id);
  return grpc::Status::OK;
}

grpc::Status GatewayServiceImpl::ListRoutes(grpc::ServerContext* context,
                                            const v1::ListRoutesRequest* request,
                                            v1::ListRoutesResponse* response) {
  for (const auto& route : path_.parts().router->Routes()) *response->add_routes() = route;
  for (const auto& backend : path_.parts().router->Backends()) *response->add_backends() = backend;
  return grpc::Status::OK;
}

grpc::Status GatewayServiceImpl::GetUsage(grpc::ServerContext* context,
                                          const v1::GetUsageRequest* request,
                                          v1::GetUsageResponse* response) {
  const std::string caller = TenantOf(*context);
  const std::string tenant = request->tenant().empty() ? caller : request->tenant();
  if (tenant != caller && !CallerIsAdmin(*context)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("only admin keys may read another tenant's usage (you are \"",
                                     caller, "\")"));
  }
  if (path_.parts().usage == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "usage is not recorded here");
  }
  absl::Time since = absl::InfinitePast();
  if (request->has_since()) {
    since = absl::FromUnixSeconds(request->since().seconds()) +
            absl::Nanoseconds(request->since().nanos());
  }
  auto totals = path_.parts().usage->Totals(tenant, since);
  if (!totals.ok()) return ToGrpcStatus(totals.status());
  response->set_tenant(tenant);
  response->set_requests(totals->requests);
  *response->mutable_usage() = totals->usage;
  response->set_budget_micros_left(
      path_.parts().limiter != nullptr ? path_.parts().limiter->BudgetMicrosLeft(tenant) : -1);
  return grpc::Status::OK;
}

}  // namespace tessera::gateway
