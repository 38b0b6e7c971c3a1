#include "gateway/model_backend.h"

#include "gateway/trace_context.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <cmath>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "tessera/generation/v1/generation.grpc.pb.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::EmbedRequest;
using tessera::generation::v1::EmbedResponse;
using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;
using tessera::generation::v1::GenerateStreamResponse;
using tessera::generation::v1::GenerationService;

bool Retryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status) ||
         absl::IsAborted(status);
}

// The served call's traceparent (the router's span, set by its gate), for the
// backend call it makes.
std::string IncomingTraceparent(const BackendCall& call) {
  if (call.parent == nullptr) return "";
  const auto& metadata = call.parent->client_metadata();
  auto it = metadata.find(kTraceparentHeader);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

class GrpcModelBackend : public ModelBackend {
 public:
  GrpcModelBackend(const BackendConfig& config, std::shared_ptr<grpc::Channel> channel)
      : config_(config), stub_(GenerationService::NewStub(std::move(channel))) {}

  absl::StatusOr<GenerateResponse> Generate(const GenerateRequest& request,
                                            const BackendCall& call) override {
    return Unary(request, call, &GenerationService::Stub::Generate);
  }

  absl::Status GenerateStream(const GenerateRequest& request, const BackendCall& call,
                              const StreamCallback& on_chunk) override {
    bool delivered = false;
    return WithRetries(call, [&]() -> absl::Status {
      auto context = NewContext(call);
      auto reader = stub_->GenerateStream(context.get(), request);
      GenerateStreamResponse chunk;
      bool stopped = false;
      while (reader->Read(&chunk)) {
        delivered = true;
        if (!on_chunk(chunk)) {
          stopped = true;
          context->TryCancel();
          break;
        }
      }
      grpc::Status status = reader->Finish();
      if (stopped) return absl::CancelledError("stream cancelled by the caller");
      return FromGrpcStatus(status);
    }, [&delivered] { return !delivered; });
  }

  absl::StatusOr<EmbedResponse> Embed(const EmbedRequest& request,
                                      const BackendCall& call) override {
    return Unary(request, call, &GenerationService::Stub::Embed);
  }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Unary(const Request& request, const BackendCall& call,
                                 grpc::Status (GenerationService::Stub::*method)(
                                     grpc::ClientContext*, const Request&, Response*)) {
    Response response;
    absl::Status status = WithRetries(call, [&] {
      auto context = NewContext(call);
      response.Clear();
      return FromGrpcStatus((stub_.get()->*method)(context.get(), request, &response));
    }, [] { return true; });
    if (!status.ok()) return status;
    return response;
  }

  std::unique_ptr<grpc::ClientContext> NewContext(const BackendCall& call) const {
    // A child of the served call inherits its deadline and is cancelled with it.
    std::unique_ptr<grpc::ClientContext> context =
        call.parent != nullptr ? grpc::ClientContext::FromServerContext(*call.parent)
                               : std::make_unique<grpc::ClientContext>();
    absl::Time deadline = std::min(call.deadline, absl::Now() + config_.timeout);
    context->set_deadline(absl::ToChronoTime(deadline));
    const std::string traceparent = IncomingTraceparent(call);
    if (!traceparent.empty()) context->AddMetadata(kTraceparentHeader, traceparent);
    return context;
  }

  absl::Status WithRetries(const BackendCall& call, const std::function<absl::Status()>& attempt,
                           const std::function<bool()>& may_retry) {
    absl::BitGen random;
    for (int index = 0;; ++index) {
      absl::Status status = attempt();
      if (status.ok() || !Retryable(status) || index >= config_.max_retries || !may_retry()) {
        return status;
      }
      // Equal jitter: half fixed, half random, so callers that failed together
      // do not retry together.
      absl::Duration base = config_.initial_backoff * std::pow(2.0, index);
      absl::Duration delay = base / 2 + absl::Uniform(random, 0.0, 1.0) * (base / 2);
      if (absl::Now() + delay >= call.deadline) return status;
      absl::SleepFor(delay);
    }
  }

  const BackendConfig config_;
  std::unique_ptr<GenerationService::Stub> stub_;
};

class OpenAiModelBackend : public ModelBackend {
 public:
  explicit OpenAiModelBackend(std::unique_ptr<OpenAiClient> client) : client_(std::move(client)) {}

  absl::StatusOr<GenerateResponse> Generate(const GenerateRequest& request,
                                            const BackendCall& call) override {
    ScopedTraceparent trace(IncomingTraceparent(call));
    return client_->Generate(request);
  }

  absl::Status GenerateStream(const GenerateRequest& request, const BackendCall& call,
                              const StreamCallback& on_chunk) override {
    ScopedTraceparent trace(IncomingTraceparent(call));
    // The HTTP transfer stops when the served gRPC call is cancelled.
    return client_->GenerateStream(request, [&](const GenerateStreamResponse& chunk) {
      if (call.parent != nullptr && call.parent->IsCancelled()) return false;
      return on_chunk(chunk);
    });
  }

  absl::StatusOr<EmbedResponse> Embed(const EmbedRequest& request, const BackendCall& call) override {
    ScopedTraceparent trace(IncomingTraceparent(call));
    return client_->Embed(request);
  }

 private:
  std::unique_ptr<OpenAiClient> client_;
};

}  // namespace

std::unique_ptr<ModelBackend> NewGrpcModelBackend(const BackendConfig& config,
                                                  std::shared_ptr<grpc::Channel> channel) {
  return std::make_unique<GrpcModelBackend>(config, std::move(channel));
}

absl::StatusOr<std::unique_ptr<ModelBackend>> NewOpenAiModelBackend(const BackendConfig& config) {
  OpenAiClientOptions options;
  options.base_url = config.address;
  options.api_key_env = config.api_key_env;
  options.default_model = config.default_model;
  options.request_timeout = config.timeout;
  options.max_retries = config.max_retries;
  options.initial_backoff = config.initial_backoff;
  options.max_backoff = std::max(config.initial_backoff, absl::Seconds(8));
  options.extended_sampling = config.extended_sampling;
  auto client = OpenAiClient::Create(std::move(options));
  if (!client.ok()) {
    return absl::Status(client.status().code(),
                        absl::StrCat("backend \"", config.name, "\": ", client.status().message()));
  }
  return std::unique_ptr<ModelBackend>(new OpenAiModelBackend(std::move(*client)));
}

bool IsBackendFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kCancelled:
      return false;
    default:
      return true;
  }
}

}  // namespace tessera::gateway
