// TLS and mutual TLS on the gRPC port, with a throwaway CA and certificates made
// by the openssl CLI at test time: a TLS client works, a plaintext client and a
// client that does not trust the CA fail; with a client CA configured, clients
// without a certificate (or with one from another CA) are refused.
#include "services/tls_credentials.h"

#include <grpcpp/create_channel.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/admin_client.h"
#include "services/server_config.h"
#include "services/tessera_server.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"

namespace tessera::services {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(5);

bool RunShell(const std::string& command) { return std::system((command + " 2>/dev/null").c_str()) == 0; }

// A CA key and self-signed certificate, then `name`.pem/.key signed by it.
bool MakeCa(const std::string& dir, const std::string& ca) {
  return RunShell(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                          "-nodes -days 1 -subj /CN=", ca, " -keyout ", dir, "/", ca, ".key -out ",
                          dir, "/", ca, ".pem"));
}
bool MakeCert(const std::string& dir, const std::string& ca, const std::string& name,
              const std::string& extensions) {
  const std::string base = absl::StrCat(dir, "/", name);
  return RunShell(absl::StrCat("printf '", extensions, "' > ", base, ".ext")) &&
         RunShell(absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                          "-subj /CN=", name, " -keyout ", base, ".key -out ", base, ".csr")) &&
         RunShell(absl::StrCat("openssl x509 -req -days 1 -in ", base, ".csr -CA ", dir, "/", ca,
                          ".pem -CAkey ", dir, "/", ca, ".key -CAcreateserial -out ", base,
                          ".pem -extfile ", base, ".ext"));
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(absl::StrCat(::testing::TempDir(), "/tls_test_certs"));
    std::filesystem::create_directories(*dir_);
    const std::string server_ext = "subjectAltName=DNS:localhost,IP:127.0.0.1\\n"
                                   "extendedKeyUsage=serverAuth\\n";
    const std::string client_ext = "extendedKeyUsage=clientAuth\\n";
    made_ = RunShell("openssl version") && MakeCa(*dir_, "ca") && MakeCa(*dir_, "rogue_ca") &&
            MakeCert(*dir_, "ca", "server", server_ext) &&
            MakeCert(*dir_, "ca", "client", client_ext) &&
            MakeCert(*dir_, "rogue_ca", "rogue_client", client_ext);
  }

  void SetUp() override {
    if (!made_) GTEST_SKIP() << "the openssl CLI is missing or failed; TLS not tested";
  }
  void TearDown() override { ASSERT_TRUE(SetClientTls(ClientTlsOptions()).ok()); }

  static std::string File(const std::string& name) { return *dir_ + "/" + name; }

  // A server on a free loopback port; `client_ca` turns on mutual TLS.
  std::unique_ptr<TesseraServer> StartServer(bool client_ca) {
    ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.data_dir = absl::StrCat(::testing::TempDir(), "/tls_test_data_", client_ca);
    config.tls_cert_file = File("server.pem");
    config.tls_key_file = File("server.key");
    if (client_ca) config.tls_client_ca_file = File("ca.pem");
    auto server = TesseraServer::Start(config);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  static std::string Target(const TesseraServer& server) {
    return absl::StrCat("localhost:", server.port());
  }

  static absl::StatusOr<std::string> HealthWith(const TesseraServer& server,
                                                const ClientTlsOptions& options) {
    absl::Status set = SetClientTls(options);
    if (!set.ok()) return set;
    return CheckHealth(Target(server), "", kTimeout);
  }

  static std::string* dir_;
  static bool made_;
};

std::string* TlsTest::dir_ = nullptr;
bool TlsTest::made_ = false;

TEST_F(TlsTest, TlsClientIsServedAndPlaintextClientIsNot) {
  std::unique_ptr<TesseraServer> server = StartServer(/*client_ca=*/false);
  ASSERT_NE(server, nullptr);

  absl::StatusOr<std::string> health = HealthWith(*server, {File("ca.pem"), "", ""});
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
  // Reflection and the data RPCs run over the same TLS channel.
  auto services = ListServices(Target(*server), kTimeout);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_FALSE(services->empty());

  health = HealthWith(*server, ClientTlsOptions());
  EXPECT_FALSE(health.ok()) << "a plaintext client was served by a TLS port";
  EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();

  health = HealthWith(*server, {File("rogue_ca.pem"), "", ""});
  EXPECT_FALSE(health.ok()) << "a client that does not trust the server's CA connected";
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  std::unique_ptr<TesseraServer> server = StartServer(/*client_ca=*/true);
  ASSERT_NE(server, nullptr);

  absl::StatusOr<std::string> health = HealthWith(*server, {File("ca.pem"), "", ""});
  EXPECT_FALSE(health.ok()) << "a client without a certificate was served under mutual TLS";

  health = HealthWith(*server, {File("ca.pem"), File("rogue_client.pem"), File("rogue_client.key")});
  EXPECT_FALSE(health.ok()) << "a client certificate from another CA was accepted";

  health = HealthWith(*server, {File("ca.pem"), File("client.pem"), File("client.key")});
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");

  // A write and a read through the channel the CLI's ingest uses.
  auto stub = ingest::v1::IngestService::NewStub(
      grpc::CreateChannel(Target(*server), ClientChannelCredentials()));
  ingest::v1::PutDocumentRequest put;
  put.set_create_collection(true);
  put.mutable_document()->set_collection("secure");
  put.mutable_document()->set_id("d1");
  put.mutable_document()->set_text("sent over mutual TLS");
  ingest::v1::PutDocumentResponse put_response;
  grpc::ClientContext put_context;
  grpc::Status status = stub->PutDocument(&put_context, put, &put_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ingest::v1::GetDocumentRequest get;
  get.set_collection("secure");
  get.set_id("d1");
  ingest::v1::GetDocumentResponse got;
  grpc::ClientContext get_context;
  status = stub->GetDocument(&get_context, get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.document().text(), "sent over mutual TLS");
}

// A plaintext front process whose ingest service is served by a backend that
// requires mutual TLS: forwarded (router.services) or sharded (retrieval_shards).
std::unique_ptr<TesseraServer> StartFront(const std::string& name, int backend_port,
                                          bool sharded, const ClientTlsOptions& backend_tls) {
  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.data_dir = absl::StrCat(::testing::TempDir(), "/tls_test_front_", name);
  const std::string backend = absl::StrCat("localhost:", backend_port);
  if (sharded) {
    config.retrieval_shards = {backend};
  } else {
    config.router.services["ingest"] = {backend};
  }
  config.backend_tls_ca_file = backend_tls.ca_file;
  config.backend_tls_cert_file = backend_tls.cert_file;
  config.backend_tls_key_file = backend_tls.key_file;
  auto server = TesseraServer::Start(config);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// A write then a read of document `id` through the front's ingest service;
// the first failure's status.
grpc::Status PutAndGet(const TesseraServer& front, const std::string& id) {
  auto stub = ingest::v1::IngestService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", front.port()), grpc::InsecureChannelCredentials()));
  ingest::v1::PutDocumentRequest put;
  put.set_create_collection(true);
  put.mutable_document()->set_collection("behind");
  put.mutable_document()->set_id(id);
  put.mutable_document()->set_text("forwarded over mutual TLS");
  ingest::v1::PutDocumentResponse put_response;
  grpc::ClientContext put_context;
  put_context.set_deadline(absl::ToChronoTime(absl::Now() + kTimeout));
  grpc::Status status = stub->PutDocument(&put_context, put, &put_response);
  if (!status.ok()) return status;
  ingest::v1::GetDocumentRequest get;
  get.set_collection("behind");
  get.set_id(id);
  ingest::v1::GetDocumentResponse got;
  grpc::ClientContext get_context;
  get_context.set_deadline(absl::ToChronoTime(absl::Now() + kTimeout));
  status = stub->GetDocument(&get_context, get, &got);
  if (status.ok() && got.document().text() != put.document().text()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "read back other text: " + got.document().text());
  }
  return status;
}

TEST_F(TlsTest, OutgoingChannelsUseBackendTlsToReachAMutualTlsBackend) {
  std::unique_ptr<TesseraServer> backend = StartServer(/*client_ca=*/true);
  ASSERT_NE(backend, nullptr);
  const ClientTlsOptions backend_tls{File("ca.pem"), File("client.pem"), File("client.key")};
  for (bool sharded : {false, true}) {
    SCOPED_TRACE(sharded ? "retrieval_shards" : "router.services");
    const std::string kind = sharded ? "sharded" : "forwarded";
    std::unique_ptr<TesseraServer> front =
        StartFront(kind + "_tls", backend->port(), sharded, backend_tls);
    ASSERT_NE(front, nullptr);
    grpc::Status status = PutAndGet(*front, kind + "-1");
    EXPECT_TRUE(status.ok()) << status.error_message();

    // Without backend_tls_* the backend refuses the plaintext channel: a prompt
    // UNAVAILABLE, not a hang until the deadline.
    std::unique_ptr<TesseraServer> plain_front =
        StartFront(kind + "_plain", backend->port(), sharded, ClientTlsOptions());
    ASSERT_NE(plain_front, nullptr);
    const absl::Time start = absl::Now();
    status = PutAndGet(*plain_front, kind + "-2");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    EXPECT_LT(absl::Now() - start, kTimeout);
  }
}

TEST_F(TlsTest, BadTlsConfigurationIsAClearError) {
  ServerConfig config;
  config.tls_cert_file = File("server.pem");
  EXPECT_EQ(MakeServerCredentials(config).status().code(), absl::StatusCode::kInvalidArgument);
  config.tls_key_file = File("missing.key");
  EXPECT_EQ(MakeServerCredentials(config).status().code(), absl::StatusCode::kNotFound);
  config.tls_key_file = File("server.ext");  // Not PEM.
  EXPECT_EQ(MakeServerCredentials(config).status().code(), absl::StatusCode::kInvalidArgument);
  ServerConfig ca_only;
  ca_only.tls_client_ca_file = File("ca.pem");
  EXPECT_EQ(MakeServerCredentials(ca_only).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetClientTls({"", File("client.pem"), ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(MakeServerCredentials(ServerConfig()).ok());  // Plaintext by default.
}

}  // namespace
}  // namespace tessera::services
