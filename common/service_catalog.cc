#include "common/service_catalog.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/eval/v1/eval.grpc.pb.h"
#include "tessera/gateway/v1/gateway.grpc.pb.h"
#include "tessera/generation/v1/generation.grpc.pb.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera {

absl::Span<const ServiceInfo> TesseraServices() {
  static const auto* services = new std::vector<ServiceInfo>{
      {"ingest", ingest::v1::IngestService::service_full_name(), true},
      {"retrieval", retrieval::v1::RetrievalService::service_full_name(), true},
      {"generation", generation::v1::GenerationService::service_full_name(), false},
      {"agents", agents::v1::AgentService::service_full_name(), true},
      {"eval", eval::v1::EvalService::service_full_name(), true},
      {"gateway", gateway::v1::GatewayService::service_full_name(), false},
  };
  return *services;
}

const ServiceInfo* FindService(absl::string_view name) {
  for (const ServiceInfo& service : TesseraServices()) {
    if (service.name == name) return &service;
  }
  return nullptr;
}

absl::Status CheckServiceNames(absl::Span<const std::string> names, absl::string_view source) {
  for (const std::string& name : names) {
    if (FindService(name) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": unknown service \"", name,
                                                     "\" (want one of ",
                                                     absl::StrJoin(ServiceNames(), ", "), ")"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> ServiceNames() {
  std::vector<std::string> names;
  for (const ServiceInfo& service : TesseraServices()) names.push_back(service.name);
  return names;
}

std::vector<std::string> ForwardableServiceNames() {
  std::vector<std::string> names;
  for (const ServiceInfo& service : TesseraServices()) {
    if (service.forwardable) names.push_back(service.name);
  }
  return names;
}

}  // namespace tessera
