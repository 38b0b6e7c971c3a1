// TLS and mutual TLS for Tessera's gRPC ports: server credentials from the
// ServerConfig's PEM files, and the credentials of the CLI's client channels
// (--tls_ca / --tls_cert / --tls_key).
#ifndef TESSERA_SERVICES_TLS_CREDENTIALS_H_
#define TESSERA_SERVICES_TLS_CREDENTIALS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/server_config.h"

namespace tessera::services {

// Plaintext when the config names no certificate; TLS with tls_cert_file and
// tls_key_file; with tls_client_ca_file too, clients must present a certificate
// signed by that CA (mutual TLS). INVALID_ARGUMENT for a certificate without a
// key (or the reverse) or a client CA without a server certificate; NOT_FOUND
// for unreadable files.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerConfig& config);

struct ClientTlsOptions {
  // PEM roots the server's certificate must chain to; empty = the system roots.
  std::string ca_file;
  // PEM certificate chain and private key for mutual TLS (both or neither).
  std::string cert_file;
  std::string key_file;

  bool enabled() const { return !ca_file.empty() || !cert_file.empty() || !key_file.empty(); }
};

// Plaintext unless `options` is enabled(); errors as MakeServerCredentials.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& options);

// The credentials of every client channel the CLI opens (health, services,
// ingest and eval with --target): SetClientTls once at start-up, before any
// client is made; plaintext until then.
absl::Status SetClientTls(const ClientTlsOptions& options);
std::shared_ptr<grpc::ChannelCredentials> ClientChannelCredentials();

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_TLS_CREDENTIALS_H_
