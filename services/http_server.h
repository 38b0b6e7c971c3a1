// A small HTTP/1.1 server (Boost.Beast over Asio) for the operational endpoints
// (/healthz, /metrics) and, later, the OpenAI-compatible API. Handlers are plain
// functions from a request to a response; routes match method + exact path.
#ifndef TESSERA_SERVICES_HTTP_SERVER_H_
#define TESSERA_SERVICES_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::services {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra header lines (name, value), e.g. Retry-After.
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed instead: the status and headers go out at
  // once (chunked transfer encoding), then `stream` runs and each `write`
  // sends one chunk immediately; `write` returns false once the client is gone.
  std::function<void(const std::function<bool(const std::string&)>& write)> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // Routes are fixed before Start(): method + path -> handler.
  void Route(const std::string& method, const std::string& path, HttpHandler handler);

  // Listens on host:port (0 picks a free port) with `threads` I/O threads.
  absl::Status Start(const std::string& host, int port, int threads = 2);
  int port() const { return port_; }
  // Stops accepting, closes connections and joins the threads.
  void Shutdown();

  HttpServer();
  ~HttpServer();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::map<std::pair<std::string, std::string>, HttpHandler> routes_;
  int port_ = 0;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_HTTP_SERVER_H_
