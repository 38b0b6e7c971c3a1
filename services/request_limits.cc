#include "services/request_limits.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tessera::services {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsDocumentBody(const FieldDescriptor* field) {
  return field->full_name() == "tessera.common.v1.Document.text" ||
         field->full_name() == "tessera.common.v1.Document.content";
}

absl::Status OverLimit(const std::string& path, int64_t size, absl::string_view unit,
                       int64_t limit) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, " is ", size, " ", unit, ", over the limit of ", limit));
}

absl::Status Check(const Message& message, const RequestLimits& limits, const std::string& prefix) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string path = prefix + field->name();
    const bool is_string = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
    const bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    const int64_t max_bytes = IsDocumentBody(field) ? limits.max_document_bytes
                                                    : limits.max_field_bytes;
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      if (size > limits.max_repeated_entries) {
        return OverLimit(path, size, "entries", limits.max_repeated_entries);
      }
      if (!is_string && !is_message) continue;
      for (int i = 0; i < size; ++i) {
        const std::string element = absl::StrCat(path, "[", i, "]");
        if (is_message) {
          absl::Status status =
              Check(reflection->GetRepeatedMessage(message, field, i), limits, element + ".");
          if (!status.ok()) return status;
        } else {
          std::string scratch;
          const std::string& value =
              reflection->GetRepeatedStringReference(message, field, i, &scratch);
          if (static_cast<int64_t>(value.size()) > max_bytes) {
            return OverLimit(element, value.size(), "bytes", max_bytes);
          }
        }
      }
    } else if (is_message) {
      absl::Status status = Check(reflection->GetMessage(message, field), limits, path + ".");
      if (!status.ok()) return status;
    } else if (is_string) {
      std::string scratch;
      const std::string& value = reflection->GetStringReference(message, field, &scratch);
      if (static_cast<int64_t>(value.size()) > max_bytes) {
        return OverLimit(path, value.size(), "bytes", max_bytes);
      }
    }
  }
  return absl::OkStatus();
}

class RequestLimitsInterceptor : public grpc::experimental::Interceptor {
 public:
  RequestLimitsInterceptor(const RequestLimits* limits, std::string method)
      : limits_(limits), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // Every /tessera.* method is a generated protobuf service method.
      auto* message = static_cast<Message*>(methods->GetRecvMessage());
      if (message != nullptr) {
        if (violation_.ok()) violation_ = CheckRequestLimits(*message, *limits_);
        if (!violation_.ok()) message->Clear();
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !violation_.ok()) {
      methods->ModifySendStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                             absl::StrCat(method_, ": ", violation_.message())));
    }
    methods->Proceed();
  }

 private:
  const RequestLimits* limits_;
  const std::string method_;
  absl::Status violation_;
};

}  // namespace

absl::Status CheckRequestLimits(const Message& message, const RequestLimits& limits) {
  return Check(message, limits, "");
}

grpc::experimental::Interceptor* RequestLimitsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // Health checking and reflection are gRPC's own (and not all protobuf-typed).
  if (info->method() == nullptr || !absl::StartsWith(info->method(), "/tessera.")) return nullptr;
  for (const std::string& service : limits_.unchecked_services) {
    if (absl::StartsWith(info->method(), absl::StrCat("/", service, "/"))) return nullptr;
  }
  return new RequestLimitsInterceptor(&limits_, info->method());
}

}  // namespace tessera::services
