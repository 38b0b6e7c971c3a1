// An OpenAI-compatible model backend for tests: a real HTTP server on
// 127.0.0.1 (RawHttpServer) answering /v1/chat/completions (whole or streamed
// as server-sent events) and /v1/embeddings. Its answer is "<name>: <the last
// user message>", so tests see which backend served a call and what text
// reached it. It counts requests, keeps the last request body and the
// Authorization header, and can be switched to fail with HTTP 500.
#ifndef TESSERA_GATEWAY_TESTING_OPENAI_BACKEND_H_
#define TESSERA_GATEWAY_TESTING_OPENAI_BACKEND_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gateway/testing/raw_http_server.h"

namespace tessera::gateway::testing {

class TestOpenAiBackend {
 public:
  explicit TestOpenAiBackend(std::string name);

  absl::Status Start() { return server_.Start(); }
  void Stop() { server_.Stop(); }
  // "http://127.0.0.1:PORT/v1".
  std::string base_url() const;
  const std::string& name() const { return name_; }

  // Chat completions answer exactly `reply` while it is non-empty (a judge's
  // "Score: 4"); empty (the default) restores "<name>: <last user message>".
  void set_reply(std::string reply) {
    absl::MutexLock lock(&mu_);
    reply_ = std::move(reply);
  }
  // Answer HTTP 500 to chat completions while set.
  void set_failing(bool failing) { failing_ = failing; }
  // GET /health answers 200 while set (the default), else 503.
  void set_healthy(bool healthy) { healthy_ = healthy; }
  int health_probes() const { return health_probes_.load(); }
  // Chat completion requests received (including failed ones).
  int requests() const { return requests_.load(); }
  std::string last_body();
  std::string last_authorization();

 private:
  std::string Handle(const RawRequest& request);

  const std::string name_;
  RawHttpServer server_;
  std::atomic<bool> failing_{false};
  std::atomic<bool> healthy_{true};
  std::atomic<int> health_probes_{0};
  std::atomic<int> requests_{0};
  absl::Mutex mu_;
  std::string last_body_ ABSL_GUARDED_BY(mu_);
  std::string last_authorization_ ABSL_GUARDED_BY(mu_);
  std::string reply_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway::testing

#endif  // TESSERA_GATEWAY_TESTING_OPENAI_BACKEND_H_
