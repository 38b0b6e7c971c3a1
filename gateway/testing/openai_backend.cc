#include "gateway/testing/openai_backend.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace tessera::gateway::testing {
namespace {

using Json = nlohmann::json;

std::string LastUserMessage(const Json& body) {
  std::string text;
  if (body.contains("messages") && body["messages"].is_array()) {
    for (const Json& message : body["messages"]) {
      if (message.value("role", "") == "user" && message.contains("content") &&
          message["content"].is_string()) {
        text = message["content"].get<std::string>();
      }
    }
  }
  return text;
}

std::string StreamEvent(const Json& chunk) { return absl::StrCat("data: ", chunk.dump(), "\n\n"); }

}  // namespace

TestOpenAiBackend::TestOpenAiBackend(std::string name)
    : name_(std::move(name)), server_([this](const RawRequest& request) { return Handle(request); }) {}

std::string TestOpenAiBackend::base_url() const {
  return absl::StrCat("http://127.0.0.1:", server_.port(), "/v1");
}

std::string TestOpenAiBackend::last_body() {
  absl::MutexLock lock(&mu_);
  return last_body_;
}

std::string TestOpenAiBackend::last_authorization() {
  absl::MutexLock lock(&mu_);
  return last_authorization_;
}

std::string TestOpenAiBackend::Handle(const RawRequest& request) {
  if (request.method == "GET" && request.target == "/health") {
    health_probes_.fetch_add(1);
    return healthy_.load() ? RawHttpServer::Response(200, "text/plain", "ok\n")
                           : RawHttpServer::Response(503, "text/plain", "down\n");
  }
  Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return RawHttpServer::Response(400, "application/json", R"({"error":{"message":"bad JSON"}})");
  }
  if (request.target == "/v1/embeddings") {
    Json data = Json::array();
    const Json inputs = body.value("input", Json::array());
    for (size_t i = 0; inputs.is_array() && i < inputs.size(); ++i) {
      data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", {1.0, 0.0, 0.5}}});
    }
    Json response = {{"object", "list"}, {"data", data}, {"model", body.value("model", name_)},
                     {"usage", {{"prompt_tokens", 2}, {"total_tokens", 2}}}};
    return RawHttpServer::Response(200, "application/json", response.dump());
  }
  if (request.target != "/v1/chat/completions") {
    return RawHttpServer::Response(404, "application/json", R"({"error":{"message":"not found"}})");
  }
  requests_.fetch_add(1);
  std::string reply;
  {
    absl::MutexLock lock(&mu_);
    last_body_ = request.body;
    auto it = request.headers.find("authorization");
    last_authorization_ = it != request.headers.end() ? it->second : "";
    reply = reply_;
  }
  if (failing_.load()) {
    return RawHttpServer::Response(500, "application/json",
                                   R"({"error":{"message":"backend is down"}})");
  }
  const std::string model = body.value("model", "");
  const std::string answer =
      !reply.empty() ? reply : absl::StrCat(name_, ": ", LastUserMessage(body));
  const Json usage = {{"prompt_tokens", 10}, {"completion_tokens", 3}, {"total_tokens", 13}};
  if (!body.value("stream", false)) {
    Json response = {
        {"id", "chatcmpl-" + name_},
        {"object", "chat.completion"},
        {"model", model},
        {"choices",
         {{{"index", 0},
           {"message", {{"role", "assistant"}, {"content", answer}}},
           {"finish_reason", "stop"}}}},
        {"usage", usage}};
    return RawHttpServer::Response(200, "application/json", response.dump());
  }
  // The answer in three pieces, then the finish and the usage chunks.
  std::string events;
  const size_t third = answer.size() / 3;
  for (const std::string& piece :
       {answer.substr(0, third), answer.substr(third, third), answer.substr(2 * third)}) {
    events += StreamEvent({{"id", "chatcmpl-" + name_},
                           {"object", "chat.completion.chunk"},
                           {"model", model},
                           {"choices", {{{"index", 0}, {"delta", {{"content", piece}}}}}}});
  }
  events += StreamEvent({{"id", "chatcmpl-" + name_},
                         {"object", "chat.completion.chunk"},
                         {"choices", {{{"index", 0}, {"delta", Json::object()}, {"finish_reason", "stop"}}}}});
  events += StreamEvent({{"id", "chatcmpl-" + name_}, {"choices", Json::array()}, {"usage", usage}});
  events += "data: [DONE]\n\n";
  return RawHttpServer::Response(200, "text/event-stream", events);
}

}  // namespace tessera::gateway::testing
