#include "services/inflight_limit.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"

namespace tessera::services {
namespace {

// ListCollections holds its thread until released: a slow call.
class BlockingService : public ingest::v1::IngestService::Service {
 public:
  grpc::Status ListCollections(grpc::ServerContext*, const ingest::v1::ListCollectionsRequest*,
                               ingest::v1::ListCollectionsResponse*) override {
    ++entered_;
    release_.WaitForNotification();
    return grpc::Status::OK;
  }
  int entered() const { return entered_.load(); }
  void Release() { release_.Notify(); }

 private:
  std::atomic<int> entered_{0};
  absl::Notification release_;
};

TEST(InflightLimitTest, CallsBeyondTheLimitAreRefusedAtOnceWithARetryHint) {
  constexpr int kLimit = 3;
  BlockingService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  LimitInflightRequests(kLimit, &builder);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<InflightLimitInterceptorFactory>(kLimit));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = ingest::v1::IngestService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  // Fill the limit with slow calls.
  std::vector<std::thread> slow;
  std::atomic<int> slow_ok{0};
  for (int i = 0; i < kLimit; ++i) {
    slow.emplace_back([&] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      ingest::v1::ListCollectionsResponse response;
      if (stub->ListCollections(&context, {}, &response).ok()) ++slow_ok;
    });
  }
  for (int i = 0; i < 500 && service.entered() < kLimit; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(service.entered(), kLimit);

  // One more is refused quickly, with the limit named and a retry hint.
  for (int attempt = 0; attempt < 5; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ingest::v1::ListCollectionsResponse response;
    const auto start = std::chrono::steady_clock::now();
    grpc::Status status = stub->ListCollections(&context, {}, &response);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_NE(status.error_message().find("max_inflight_requests"), std::string::npos)
        << status.error_message();
    EXPECT_LT(took, std::chrono::milliseconds(500));
    auto trailers = context.GetServerTrailingMetadata();
    auto retry = trailers.find("retry-after");
    ASSERT_NE(retry, trailers.end());
    EXPECT_EQ(std::string(retry->second.data(), retry->second.size()), "1");
  }
  EXPECT_EQ(service.entered(), kLimit);  // The refused calls reached no handler.

  service.Release();
  for (auto& thread : slow) thread.join();
  EXPECT_EQ(slow_ok.load(), kLimit);
  // Capacity is back.
  grpc::ClientContext context;
  ingest::v1::ListCollectionsResponse response;
  EXPECT_TRUE(stub->ListCollections(&context, {}, &response).ok());
  server->Shutdown();
}

}  // namespace
}  // namespace tessera::services
