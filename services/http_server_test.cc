#include "services/http_server.h"

#include <curl/curl.h>

#include <string>

#include "gtest/gtest.h"

namespace tessera::services {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// A real HTTP client (libcurl) against the server on loopback.
long Fetch(const std::string& url, std::string* body, const std::string& post = "",
           bool use_post = false) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
  if (use_post) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post.c_str());
  long code = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  return code;
}

TEST(HttpServerTest, RoutesByMethodAndPath) {
  HttpServer server;
  server.Route("GET", "/hello", [](const HttpRequest& request) {
    HttpResponse response;
    response.body = "hi " + request.query;
    return response;
  });
  server.Route("POST", "/echo", [](const HttpRequest& request) {
    HttpResponse response;
    response.status = 201;
    response.content_type = "application/json";
    response.body = request.body;
    return response;
  });
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  std::string body;
  EXPECT_EQ(Fetch(base + "/hello?name=x", &body), 200);
  EXPECT_EQ(body, "hi name=x");
  body.clear();
  EXPECT_EQ(Fetch(base + "/echo", &body, "{\"a\":1}", true), 201);
  EXPECT_EQ(body, "{\"a\":1}");
  body.clear();
  EXPECT_EQ(Fetch(base + "/missing", &body), 404);
  body.clear();
  EXPECT_EQ(Fetch(base + "/echo", &body), 405);  // GET on a POST route
  server.Shutdown();
  body.clear();
  EXPECT_EQ(Fetch(base + "/hello", &body), 0);  // connection refused
}

TEST(HttpServerTest, BadHostIsAnError) {
  HttpServer server;
  EXPECT_FALSE(server.Start("not-an-ip", 0).ok());
}

}  // namespace
}  // namespace tessera::services
