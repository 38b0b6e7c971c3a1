#include "gateway/testing/raw_http_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

namespace tessera::gateway::testing {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

TEST(RawHttpServerTest, ServesExactBytesAndCountsConnections) {
  RawHttpServer server([](const RawRequest& request) {
    return RawHttpServer::Response(201, "text/plain", request.method + " " + request.target + " " +
                                                          request.body,
                                   {"X-Test: yes"});
  });
  ASSERT_TRUE(server.Start().ok());
  CURL* curl = curl_easy_init();
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/echo";
  for (int i = 0; i < 3; ++i) {
    std::string body;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "abc");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    EXPECT_EQ(status, 201);
    EXPECT_EQ(body, "POST /echo abc");
  }
  curl_easy_cleanup(curl);
  EXPECT_EQ(server.connections_accepted(), 1);  // keep-alive
  server.Stop();
}

}  // namespace
}  // namespace tessera::gateway::testing
