#include "common/tenant.h"

namespace tessera {

std::string TenantOf(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kTenantHeader);
  if (it == metadata.end() || it->second.empty()) return kDefaultTenant;
  return std::string(it->second.data(), it->second.size());
}

}  // namespace tessera
