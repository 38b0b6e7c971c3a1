#include "services/http_server.h"

#include <curl/curl.h>

#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

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

struct StreamClient {
  std::string received;
  absl::Notification* first_event_read;
};

size_t CollectStream(char* data, size_t size, size_t count, void* out) {
  auto* client = static_cast<StreamClient*>(out);
  client->received.append(data, size * count);
  if (client->received.find("data: 1\n\n") != std::string::npos &&
      !client->first_event_read->HasBeenNotified()) {
    client->first_event_read->Notify();
  }
  return size * count;
}

TEST(HttpServerTest, StreamedResponsesFlushEachChunkAsItIsWritten) {
  absl::Notification first_event_read;
  bool client_saw_first_event_in_time = false;
  HttpServer server;
  server.Route("GET", "/events", [&](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "text/event-stream";
    response.stream = [&](const std::function<bool(const std::string&)>& write) {
      EXPECT_TRUE(write("data: 1\n\n"));
      // The second event is produced only once the client has read the first:
      // if the server held chunks back until the end, this would time out.
      client_saw_first_event_in_time =
          first_event_read.WaitForNotificationWithTimeout(absl::Seconds(10));
      EXPECT_TRUE(write("data: 2\n\n"));
    };
    return response;
  });
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  StreamClient client{"", &first_event_read};
  CURL* curl = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/events";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &CollectStream);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &client);
  ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  EXPECT_EQ(code, 200);
  EXPECT_TRUE(client_saw_first_event_in_time);
  EXPECT_EQ(client.received, "data: 1\n\ndata: 2\n\n");
  server.Shutdown();
}

}  // namespace
}  // namespace tessera::services
