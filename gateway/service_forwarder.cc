#include "gateway/service_forwarder.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/client_context.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/method_handler.h>
#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tessera::gateway {
namespace {

using grpc::ByteBuffer;
using grpc::internal::RpcMethod;

constexpr char kForwardedCalls[] = "tessera_gateway_forwarded_calls_total";

// Headers that belong to one hop (transport, gRPC's own) or to the router's
// admission decision, which carries a per-process secret.
bool HopHeader(absl::string_view key) {
  return absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-") || key == "content-type" ||
         key == "user-agent" || key == "te" || key == "x-tessera-gateway-decision" ||
         key == "host";
}

}  // namespace

std::unique_ptr<grpc::ClientContext> ForwardedClientContext(const grpc::ServerContext& server) {
  // Propagates the deadline and cancellation (and census) by default.
  std::unique_ptr<grpc::ClientContext> client = grpc::ClientContext::FromServerContext(server);
  for (const auto& [key, value] : server.client_metadata()) {
    absl::string_view name(key.data(), key.size());
    if (HopHeader(name)) continue;
    client->AddMetadata(std::string(name), std::string(value.data(), value.size()));
  }
  return client;
}

absl::StatusOr<std::unique_ptr<ForwardingService>> ForwardingService::Create(
    const std::string& full_name, std::vector<ServiceBackend> backends,
    const HealthChecker* health, MetricsRegistry* metrics) {
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  if (descriptor == nullptr) {
    return absl::NotFoundError(absl::StrCat("no gRPC service \"", full_name, "\" is linked in"));
  }
  if (backends.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no backend for \"", full_name, "\""));
  }
  auto service = std::unique_ptr<ForwardingService>(
      new ForwardingService(std::move(backends), health, metrics));
  service->method_names_.reserve(descriptor->method_count());
  for (int i = 0; i < descriptor->method_count(); ++i) {
    const google::protobuf::MethodDescriptor& method = *descriptor->method(i);
    service->method_names_.push_back(absl::StrCat("/", full_name, "/", method.name()));
    const std::string& name = service->method_names_.back();
    ForwardingService* self = service.get();
    grpc::internal::RpcServiceMethod* added = nullptr;
    if (method.client_streaming() && method.server_streaming()) {
      added = new grpc::internal::RpcServiceMethod(
          name.c_str(), RpcMethod::BIDI_STREAMING,
          new grpc::internal::BidiStreamingHandler<ForwardingService, ByteBuffer, ByteBuffer>(
              [](ForwardingService*, grpc::ServerContext*,
                 grpc::ServerReaderWriter<ByteBuffer, ByteBuffer>*) {
                return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                    "the router does not forward bidirectional streams");
              },
              self));
    } else if (method.client_streaming()) {
      added = new grpc::internal::RpcServiceMethod(
          name.c_str(), RpcMethod::CLIENT_STREAMING,
          new grpc::internal::ClientStreamingHandler<ForwardingService, ByteBuffer, ByteBuffer>(
              [&name](ForwardingService* service, grpc::ServerContext* context,
                      grpc::ServerReader<ByteBuffer>* reader, ByteBuffer* response) {
                return service->ClientStreaming(name, context, reader, response);
              },
              self));
    } else if (method.server_streaming()) {
      added = new grpc::internal::RpcServiceMethod(
          name.c_str(), RpcMethod::SERVER_STREAMING,
          new grpc::internal::ServerStreamingHandler<ForwardingService, ByteBuffer, ByteBuffer>(
              [&name](ForwardingService* service, grpc::ServerContext* context,
                      const ByteBuffer* request, grpc::ServerWriter<ByteBuffer>* writer) {
                return service->ServerStreaming(name, context, request, writer);
              },
              self));
    } else {
      added = new grpc::internal::RpcServiceMethod(
          name.c_str(), RpcMethod::NORMAL_RPC,
          new grpc::internal::RpcMethodHandler<ForwardingService, ByteBuffer, ByteBuffer>(
              [&name](ForwardingService* service, grpc::ServerContext* context,
                      const ByteBuffer* request, ByteBuffer* response) {
                return service->Unary(name, context, request, response);
              },
              self));
    }
    service->AddMethod(added);
  }
  return service;
}

ForwardingService::ForwardingService(std::vector<ServiceBackend> backends,
                                     const HealthChecker* health, MetricsRegistry* metrics)
    : backends_(std::move(backends)), health_(health), metrics_(metrics) {
  if (metrics_ != nullptr) {
    metrics_->Describe(kForwardedCalls,
                       "Calls the router forwarded to service backends, by backend and code.");
  }
}

const ServiceBackend& ForwardingService::PickBackend() {
  const uint64_t start = next_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < backends_.size(); ++i) {
    const ServiceBackend& backend = backends_[(start + i) % backends_.size()];
    if (health_ == nullptr || health_->IsHealthy(backend.name)) return backend;
  }
  // None passes its checks: try one anyway, so callers see the real error.
  return backends_[start % backends_.size()];
}

void ForwardingService::Finish(const std::string& method, const ServiceBackend& backend,
                               grpc::ClientContext& client, grpc::ServerContext* server,
                               const grpc::Status& status) {
  for (const auto& [key, value] : client.GetServerTrailingMetadata()) {
    absl::string_view name(key.data(), key.size());
    if (HopHeader(name)) continue;
    server->AddTrailingMetadata(std::string(name), std::string(value.data(), value.size()));
  }
  if (metrics_ != nullptr) {
    metrics_->IncrementCounter(
        kForwardedCalls,
        {{"backend", backend.name},
         {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))}});
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    spdlog::warn("forwarding {} to {}: {}", method, backend.name, status.error_message());
  }
}

grpc::Status ForwardingService::Unary(const std::string& method, grpc::ServerContext* context,
                                      const ByteBuffer* request, ByteBuffer* response) {
  const ServiceBackend& backend = PickBackend();
  std::unique_ptr<grpc::ClientContext> client = ForwardedClientContext(*context);
  grpc::Status status = grpc::internal::BlockingUnaryCall<ByteBuffer, ByteBuffer>(
      backend.channel.get(), RpcMethod(method.c_str(), RpcMethod::NORMAL_RPC), client.get(),
      *request, response);
  Finish(method, backend, *client, context, status);
  return status;
}

grpc::Status ForwardingService::ServerStreaming(const std::string& method,
                                                grpc::ServerContext* context,
                                                const ByteBuffer* request,
                                                grpc::ServerWriter<ByteBuffer>* writer) {
  const ServiceBackend& backend = PickBackend();
  std::unique_ptr<grpc::ClientContext> client = ForwardedClientContext(*context);
  std::unique_ptr<grpc::ClientReader<ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<ByteBuffer>::Create(
          backend.channel.get(), RpcMethod(method.c_str(), RpcMethod::SERVER_STREAMING),
          client.get(), *request));
  ByteBuffer message;
  while (reader->Read(&message)) {
    if (!writer->Write(message)) {
      // The caller went away: stop the backend's work too.
      client->TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  Finish(method, backend, *client, context, status);
  return status;
}

grpc::Status ForwardingService::ClientStreaming(const std::string& method,
                                                grpc::ServerContext* context,
                                                grpc::ServerReader<ByteBuffer>* reader,
                                                ByteBuffer* response) {
  const ServiceBackend& backend = PickBackend();
  std::unique_ptr<grpc::ClientContext> client = ForwardedClientContext(*context);
  std::unique_ptr<grpc::ClientWriter<ByteBuffer>> writer(
      grpc::internal::ClientWriterFactory<ByteBuffer>::Create(
          backend.channel.get(), RpcMethod(method.c_str(), RpcMethod::CLIENT_STREAMING),
          client.get(), response));
  ByteBuffer message;
  while (reader->Read(&message)) {
    if (!writer->Write(message)) break;  // the backend ended the call; Finish says why
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  Finish(method, backend, *client, context, status);
  return status;
}

}  // namespace tessera::gateway
