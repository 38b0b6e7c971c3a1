// Which tenant a gRPC call acts for. The router authenticates the caller and sets
// the tenant header; services behind it read the tenant from there. Calls that
// carry no tenant (the embedded single-tenant default) act for "default".
#ifndef TESSERA_COMMON_TENANT_H_
#define TESSERA_COMMON_TENANT_H_

#include <grpcpp/server_context.h>

#include <string>

namespace tessera {

inline constexpr char kTenantHeader[] = "x-tessera-tenant";
inline constexpr char kDefaultTenant[] = "default";

std::string TenantOf(const grpc::ServerContext& context);

}  // namespace tessera

#endif  // TESSERA_COMMON_TENANT_H_
