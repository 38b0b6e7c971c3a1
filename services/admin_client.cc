#include "services/admin_client.h"

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "services/tls_credentials.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tessera/internal/reflection/reflection_wire.pb.h"

namespace tessera::services {
namespace {

using ReflectionRequest = internal::reflection::ServerReflectionRequest;
using ReflectionResponse = internal::reflection::ServerReflectionResponse;

constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  return grpc::CreateChannel(target, ClientChannelCredentials());
}

absl::Status Annotate(const grpc::Status& status, const std::string& target) {
  absl::Status converted = FromGrpcStatus(status);
  return absl::Status(converted.code(), absl::StrCat(target, ": ", converted.message()));
}

// One request/response exchange on the bidirectional reflection stream.
absl::StatusOr<ReflectionResponse> Reflect(const std::string& target,
                                           const ReflectionRequest& request,
                                           absl::Duration timeout) {
  grpc::GenericStub stub(Connect(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, kReflectionMethod, &cq);
  auto next = [&cq](void* expected_tag) -> bool {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok && tag == expected_tag;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  bool started = next(reinterpret_cast<void*>(1));

  ReflectionResponse response;
  bool received = false;
  if (started) {
    std::string bytes = request.SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    if (next(reinterpret_cast<void*>(2))) {
      call->WritesDone(reinterpret_cast<void*>(3));
      next(reinterpret_cast<void*>(3));
      grpc::ByteBuffer reply;
      call->Read(&reply, reinterpret_cast<void*>(4));
      if (next(reinterpret_cast<void*>(4))) {
        std::vector<grpc::Slice> slices;
        reply.Dump(&slices);
        std::string data;
        for (const auto& s : slices) data.append(reinterpret_cast<const char*>(s.begin()), s.size());
        received = response.ParseFromString(data);
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  // Drain the queue until Finish completes.
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
    if (tag == reinterpret_cast<void*>(5)) break;
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return Annotate(status, target);
  if (!received) return absl::UnavailableError(absl::StrCat(target, ": no reflection response"));
  if (response.has_error_response()) {
    return absl::Status(static_cast<absl::StatusCode>(response.error_response().error_code()),
                        absl::StrCat(target, ": ", response.error_response().error_message()));
  }
  return response;
}

}  // namespace

absl::StatusOr<std::string> CheckHealth(const std::string& target, const std::string& service,
                                        absl::Duration timeout) {
  auto stub = grpc::health::v1::Health::NewStub(Connect(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::string("SERVICE_UNKNOWN");
  if (!status.ok()) return Annotate(status, target);
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

absl::StatusOr<std::vector<std::string>> ListServices(const std::string& target,
                                                      absl::Duration timeout) {
  ReflectionRequest request;
  request.set_list_services("");
  auto response = Reflect(target, request, timeout);
  if (!response.ok()) return response.status();
  std::vector<std::string> names;
  for (const auto& service : response->list_services_response().service()) {
    names.push_back(service.name());
  }
  return names;
}

absl::StatusOr<std::vector<std::string>> DescribeSymbol(const std::string& target,
                                                        const std::string& symbol,
                                                        absl::Duration timeout) {
  ReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  auto response = Reflect(target, request, timeout);
  if (!response.ok()) return response.status();
  std::vector<std::string> files;
  for (const std::string& bytes : response->file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(bytes)) {
      return absl::DataLossError(absl::StrCat(target, ": unparseable file descriptor"));
    }
    files.push_back(file.name());
  }
  return files;
}

}  // namespace tessera::services
