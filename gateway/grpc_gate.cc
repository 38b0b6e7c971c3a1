#include "gateway/grpc_gate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message_lite.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>
#include <openssl/rand.h>

#include <cmath>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/tenant.h"
#include "gateway/trace_context.h"

namespace tessera::gateway {
namespace {

using grpc::internal::MethodHandler;
using grpc::internal::RpcMethod;

// The admission decision, from the interceptor to the handler:
// "<secret>;<grpc code>;<retry after ms>;<message>".
constexpr char kDecisionHeader[] = "x-tessera-gateway-decision";

std::string RandomSecret() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Still unguessable enough for a header that never leaves the process.
    for (unsigned char& byte : bytes) byte = static_cast<unsigned char>(std::rand());
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
}

std::string Header(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                   const char* name) {
  auto it = metadata.find(grpc::string_ref(name));
  return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// Authenticates the call and rewrites its identity headers (see grpc_gate.h).
class GateInterceptor : public grpc::experimental::Interceptor {
 public:
  GateInterceptor(RequestGate* gate, const std::string* secret, std::string method)
      : gate_(gate), secret_(secret), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* metadata = methods->GetRecvInitialMetadata();
      // Health checking and reflection stay open (load balancers, tooling).
      if (metadata != nullptr && method_.rfind("/grpc.", 0) != 0) {
        Trace(metadata);
        Decide(metadata);
      }
    }
    if (span_ != nullptr && methods->QueryInterceptionHookPoint(
                                grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      span_->set_status(absl::StatusCodeToString(
          static_cast<absl::StatusCode>(methods->GetSendStatus().error_code())));
    }
    methods->Proceed();
  }

 private:
  // This call's span, a child of the caller's traceparent (or a new trace);
  // the header is rewritten to name this span, so every hop made on behalf of
  // the call (forwarded services, model backends) becomes its child. Logged
  // when the call ends (the interceptor's destruction); cancelled calls send
  // no status and keep "CANCELLED".
  void Trace(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    span_ = std::make_unique<Span>(method_, Header(*metadata, kTraceparentHeader));
    span_->set_status("CANCELLED");
    traceparent_ = span_->traceparent();
    metadata->erase(grpc::string_ref(kTraceparentHeader));
    metadata->emplace(grpc::string_ref(kTraceparentHeader), grpc::string_ref(traceparent_));
  }

  void Decide(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    CallerCredentials credentials;
    credentials.authorization = Header(*metadata, "authorization");
    credentials.api_key = Header(*metadata, "x-api-key");
    credentials.tenant = Header(*metadata, kTenantHeader);
    Admission admission = gate_->Admit(method_, credentials);

    for (auto it = metadata->begin(); it != metadata->end();) {
      const grpc::string_ref& key = it->first;
      if (key == kTenantHeader || key == kKeyIdHeader || key == kRoleHeader ||
          key == kDecisionHeader) {
        it = metadata->erase(it);
      } else {
        ++it;
      }
    }
    // The map holds references: the values live as long as this interceptor,
    // which lives as long as the call.
    tenant_ = admission.tenant;
    key_id_ = admission.key_id;
    role_ = admission.admin ? "admin" : "user";
    const int64_t retry_ms =
        admission.retry_after == absl::InfiniteDuration()
            ? -1
            : static_cast<int64_t>(std::ceil(absl::ToDoubleMilliseconds(admission.retry_after)));
    decision_ = absl::StrCat(*secret_, ";", static_cast<int>(admission.status.code()), ";",
                             retry_ms, ";", admission.status.message());
    if (!tenant_.empty()) metadata->emplace(grpc::string_ref(kTenantHeader), grpc::string_ref(tenant_));
    if (!key_id_.empty()) metadata->emplace(grpc::string_ref(kKeyIdHeader), grpc::string_ref(key_id_));
    metadata->emplace(grpc::string_ref(kRoleHeader), grpc::string_ref(role_));
    metadata->emplace(grpc::string_ref(kDecisionHeader), grpc::string_ref(decision_));
  }

  RequestGate* gate_;
  const std::string* secret_;
  const std::string method_;
  std::string tenant_, key_id_, role_, decision_, traceparent_;
  std::unique_ptr<Span> span_;
};

class GateInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  GateInterceptorFactory(RequestGate* gate, const std::string* secret)
      : gate_(gate), secret_(secret) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new GateInterceptor(gate_, secret_, info->method() != nullptr ? info->method() : "");
  }

 private:
  RequestGate* gate_;
  const std::string* secret_;
};

template <grpc::StatusCode code>
void SendStatus(const std::string& message, const MethodHandler::HandlerParameter& param) {
  grpc::internal::ErrorMethodHandler<code>(message).RunHandler(param);
}

// A service method's handler behind the admission check.
class GatedHandler : public MethodHandler {
 public:
  GatedHandler(MethodHandler* inner, const std::string* secret, bool raw_requests)
      : inner_(inner), secret_(secret), raw_requests_(raw_requests) {}

  void RunHandler(const HandlerParameter& param) override {
    int64_t retry_ms = 0;
    grpc::Status refusal = Refusal(*param.server_context, &retry_ms);
    if (refusal.ok()) {
      inner_->RunHandler(param);
      return;
    }
    if (retry_ms > 0) {
      param.server_context->AddTrailingMetadata("retry-after", absl::StrCat((retry_ms + 999) / 1000));
      param.server_context->AddTrailingMetadata("retry-after-ms", absl::StrCat(retry_ms));
    }
    // The inner handler's Deserialize built the request (unary and server
    // streaming) and only its RunHandler would destroy it. Generated messages
    // derive from MessageLite, whose destructor is virtual.
    if (param.request != nullptr) {
      if (raw_requests_) {
        static_cast<grpc::ByteBuffer*>(param.request)->~ByteBuffer();
      } else {
        static_cast<google::protobuf::MessageLite*>(param.request)->~MessageLite();
      }
    }
    const std::string& message = refusal.error_message();
    switch (refusal.error_code()) {
      case grpc::StatusCode::UNAUTHENTICATED:
        SendStatus<grpc::StatusCode::UNAUTHENTICATED>(message, param);
        break;
      case grpc::StatusCode::PERMISSION_DENIED:
        SendStatus<grpc::StatusCode::PERMISSION_DENIED>(message, param);
        break;
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        SendStatus<grpc::StatusCode::RESOURCE_EXHAUSTED>(message, param);
        break;
      case grpc::StatusCode::INVALID_ARGUMENT:
        SendStatus<grpc::StatusCode::INVALID_ARGUMENT>(message, param);
        break;
      case grpc::StatusCode::UNAVAILABLE:
        SendStatus<grpc::StatusCode::UNAVAILABLE>(message, param);
        break;
      default:
        SendStatus<grpc::StatusCode::INTERNAL>(message, param);
        break;
    }
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* request, grpc::Status* status,
                    void** handler_data) override {
    return inner_->Deserialize(call, request, status, handler_data);
  }

 private:
  grpc::Status Refusal(const grpc::ServerContextBase& context, int64_t* retry_ms) const {
    const grpc::Status not_admitted(grpc::StatusCode::INTERNAL,
                                    "the router did not admit this call");
    const std::string decision = Header(context.client_metadata(), kDecisionHeader);
    std::vector<absl::string_view> parts = absl::StrSplit(decision, absl::MaxSplits(';', 3));
    int code = 0;
    if (parts.size() != 4 || parts[0] != *secret_ || !absl::SimpleAtoi(parts[1], &code) ||
        !absl::SimpleAtoi(parts[2], retry_ms) || code < 0 || code > 16) {
      return not_admitted;
    }
    return grpc::Status(static_cast<grpc::StatusCode>(code), std::string(parts[3]));
  }

  MethodHandler* inner_;
  const std::string* secret_;
  const bool raw_requests_;
};

// grpc::Service keeps its method table private and gives handlers only to
// subclasses (GetHandler); this reads them for any service.
struct HandlerAccess : grpc::Service {
  static MethodHandler* Of(grpc::Service* service, int index) {
    return (service->*&HandlerAccess::GetHandler)(index);
  }
};

class GatedService : public grpc::Service {
 public:
  GatedService(grpc::Service* inner, const google::protobuf::ServiceDescriptor& descriptor,
               const std::string* secret, bool raw_requests) {
    // RpcMethod keeps the name's pointer: the strings must not move.
    names_.reserve(descriptor.method_count());
    for (int i = 0; i < descriptor.method_count(); ++i) {
      const google::protobuf::MethodDescriptor& method = *descriptor.method(i);
      names_.push_back(absl::StrCat("/", descriptor.full_name(), "/", method.name()));
      RpcMethod::RpcType type = RpcMethod::NORMAL_RPC;
      if (method.client_streaming() && method.server_streaming()) {
        type = RpcMethod::BIDI_STREAMING;
      } else if (method.client_streaming()) {
        type = RpcMethod::CLIENT_STREAMING;
      } else if (method.server_streaming()) {
        type = RpcMethod::SERVER_STREAMING;
      }
      // Generated services add their methods in declaration order.
      AddMethod(new grpc::internal::RpcServiceMethod(
          names_.back().c_str(), type, new GatedHandler(HandlerAccess::Of(inner, i), secret, raw_requests)));
    }
  }

 private:
  std::vector<std::string> names_;
};

}  // namespace

bool CallerIsAdmin(const grpc::ServerContextBase& context) {
  return Header(context.client_metadata(), kRoleHeader) == "admin";
}

GrpcGate::GrpcGate(RequestGate* gate) : gate_(gate), secret_(RandomSecret()) {}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcGate::NewInterceptorFactory() {
  return std::make_unique<GateInterceptorFactory>(gate_, &secret_);
}

absl::StatusOr<std::unique_ptr<grpc::Service>> GrpcGate::Wrap(grpc::Service* service,
                                                              const std::string& full_name,
                                                              bool raw_requests) {
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  if (descriptor == nullptr) {
    return absl::NotFoundError(absl::StrCat("no gRPC service \"", full_name, "\" is linked in"));
  }
  if (!service->has_synchronous_methods() || service->has_async_methods() ||
      service->has_generic_methods() || service->has_callback_methods()) {
    return absl::InvalidArgumentError(
        absl::StrCat("service \"", full_name, "\" must be synchronous to be gated"));
  }
  return std::unique_ptr<grpc::Service>(new GatedService(service, *descriptor, &secret_, raw_requests));
}

}  // namespace tessera::gateway
