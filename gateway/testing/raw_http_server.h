// A tiny HTTP/1.1 server on 127.0.0.1 for client tests that need what a normal
// server does not offer: exact response bytes (any headers, e.g. Retry-After),
// dropping a connection without answering, and counting TCP connections.
// Blocking sockets, one thread per connection; keep-alive is honoured.
#ifndef TESSERA_GATEWAY_TESTING_RAW_HTTP_SERVER_H_
#define TESSERA_GATEWAY_TESTING_RAW_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace tessera::gateway::testing {

struct RawRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class RawHttpServer {
 public:
  // Returns the complete response bytes; an empty string closes the connection
  // without a response.
  using Handler = std::function<std::string(const RawRequest&)>;

  explicit RawHttpServer(Handler handler) : handler_(std::move(handler)) {}
  ~RawHttpServer();

  absl::Status Start();  // picks a free port on 127.0.0.1
  void Stop();
  int port() const { return port_; }
  int connections_accepted() const { return connections_.load(); }

  // A response with the given status, extra header lines ("Name: value") and body.
  static std::string Response(int status, const std::string& content_type,
                              const std::string& body,
                              const std::vector<std::string>& extra_headers = {});

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
};

}  // namespace tessera::gateway::testing

#endif  // TESSERA_GATEWAY_TESTING_RAW_HTTP_SERVER_H_
