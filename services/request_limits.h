// Size limits on every field of every request to Tessera's gRPC services,
// enforced in one place for all of them. gRPC's max message size bounds a whole
// request; these bound each string, bytes and repeated field inside it, so no
// handler has to trust a field's size.
#ifndef TESSERA_SERVICES_REQUEST_LIMITS_H_
#define TESSERA_SERVICES_REQUEST_LIMITS_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/server_interceptor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tessera::services {

struct RequestLimits {
  // Any string or bytes field, except a document's text and content.
  int64_t max_field_bytes = 1 << 20;
  // tessera.common.v1.Document text and content (ingest's own limit).
  int64_t max_document_bytes = 64ll << 20;
  // Entries of any repeated or map field.
  int64_t max_repeated_entries = 100000;
  // Full names of services whose requests arrive here as raw bytes (forwarded
  // by the router to other processes, which check them): not inspected.
  std::vector<std::string> unchecked_services;
};

// OK, or INVALID_ARGUMENT naming the first field over its limit by its path in
// the message, e.g. "documents[2].metadata[0].value.string_value is 2000000
// bytes, over the limit of 1048576".
absl::Status CheckRequestLimits(const google::protobuf::Message& message,
                                const RequestLimits& limits);

// Applies CheckRequestLimits to every message received by a /tessera.* method.
// A request over a limit is answered INVALID_ARGUMENT with the field's path; its
// handler sees an empty message (and so neither stores nor computes anything
// for it), as do later messages of the same stream.
class RequestLimitsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestLimitsInterceptorFactory(RequestLimits limits) : limits_(limits) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const RequestLimits limits_;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_REQUEST_LIMITS_H_
