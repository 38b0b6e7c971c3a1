#include "gateway/health_checker.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/testing/openai_backend.h"
#include "tessera/generation/v1/generation.grpc.pb.h"

namespace tessera::gateway {
namespace {

// A gRPC server with only the standard health service, on a loopback port.
std::unique_ptr<grpc::Server> StartHealthServer(int* port) {
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC wants one synchronous service to poll for (its health service is async).
  static auto* any_service = new tessera::generation::v1::GenerationService::Service();
  grpc::ServerBuilder builder;
  builder.RegisterService(any_service);
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", *port), grpc::InsecureServerCredentials(),
                           port);
  return builder.BuildAndStart();
}

HealthCheckConfig FastChecks() {
  HealthCheckConfig config;
  config.interval = absl::Milliseconds(50);
  config.timeout = absl::Milliseconds(300);
  config.unhealthy_threshold = 2;
  config.healthy_threshold = 1;
  return config;
}

TEST(HealthCheckerTest, GrpcBackendLeavesAndReturnsWithHysteresis) {
  int port = 0;
  auto server = StartHealthServer(&port);
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);
  MetricsRegistry metrics;
  HealthChecker checker(FastChecks(), &metrics);
  checker.AddGrpc("engine", grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                                grpc::InsecureChannelCredentials()));
  checker.ProbeAll();
  EXPECT_TRUE(checker.IsHealthy("engine"));

  server->Shutdown();
  server->Wait();
  server.reset();
  checker.ProbeAll();
  EXPECT_TRUE(checker.IsHealthy("engine")) << "one failed probe is below the threshold";
  checker.ProbeAll();
  EXPECT_FALSE(checker.IsHealthy("engine"));
  EXPECT_NE(metrics.RenderPrometheus().find("tessera_gateway_backend_healthy{backend=\"engine\"} 0"),
            std::string::npos)
      << metrics.RenderPrometheus();

  // Back on the same port: one passing probe puts it back.
  server = StartHealthServer(&port);
  ASSERT_NE(server, nullptr);
  bool healthy = false;
  for (int i = 0; i < 50 && !healthy; ++i) {
    checker.ProbeAll();
    healthy = checker.IsHealthy("engine");
    if (!healthy) absl::SleepFor(absl::Milliseconds(100));  // reconnect backoff
  }
  EXPECT_TRUE(healthy);
  server->Shutdown();
}

TEST(HealthCheckerTest, NotServingStatusFailsTheProbe) {
  int port = 0;
  auto server = StartHealthServer(&port);
  ASSERT_NE(server, nullptr);
  HealthCheckConfig config = FastChecks();
  config.unhealthy_threshold = 1;
  HealthChecker checker(config, nullptr);
  checker.AddGrpc("svc", grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                             grpc::InsecureChannelCredentials()),
                  "tessera.eval.v1.EvalService");
  server->GetHealthCheckService()->SetServingStatus("tessera.eval.v1.EvalService", true);
  checker.ProbeAll();
  EXPECT_TRUE(checker.IsHealthy("svc"));
  server->GetHealthCheckService()->SetServingStatus("tessera.eval.v1.EvalService", false);
  checker.ProbeAll();
  EXPECT_FALSE(checker.IsHealthy("svc"));
  server->Shutdown();
}

TEST(HealthCheckerTest, HttpBackendProbedOnItsPathByTheBackgroundThread) {
  testing::TestOpenAiBackend backend("vllm");
  ASSERT_TRUE(backend.Start().ok());
  HealthChecker checker(FastChecks(), nullptr);
  checker.AddHttp("vllm", HealthUrl(backend.base_url(), "/health"));
  EXPECT_TRUE(checker.IsHealthy("unknown-backend"));
  checker.Start();
  backend.set_healthy(false);
  bool out = false;
  for (int i = 0; i < 100 && !out; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    out = !checker.IsHealthy("vllm");
  }
  EXPECT_TRUE(out) << "probes: " << backend.health_probes();
  backend.set_healthy(true);
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    back = checker.IsHealthy("vllm");
  }
  EXPECT_TRUE(back);
  EXPECT_GE(backend.health_probes(), 3);
}

TEST(HealthCheckerTest, HealthUrlJoinsPathsToTheOrigin) {
  EXPECT_EQ(HealthUrl("http://10.0.0.5:8000/v1", "/health"), "http://10.0.0.5:8000/health");
  EXPECT_EQ(HealthUrl("http://10.0.0.5:8000/v1", "ping"), "http://10.0.0.5:8000/ping");
  EXPECT_EQ(HealthUrl("http://a/v1", "https://b/healthz"), "https://b/healthz");
}

}  // namespace
}  // namespace tessera::gateway
