#include "gateway/openai_client.h"

#include "gateway/trace_context.h"

#include <curl/curl.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "gateway/sse.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::EmbedRequest;
using tessera::generation::v1::EmbedResponse;
using tessera::generation::v1::FinishReason;
using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;
using tessera::generation::v1::GenerateStreamResponse;

constexpr size_t kMaxErrorBodyBytes = 64 << 10;
constexpr size_t kMaxMessageChars = 500;

void GlobalCurlInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

FinishReason ParseFinishReason(const Json& value) {
  if (!value.is_string()) return tessera::generation::v1::FINISH_REASON_UNSPECIFIED;
  const std::string reason = value.get<std::string>();
  if (reason == "stop" || reason == "eos") return tessera::generation::v1::STOP;
  if (reason == "length") return tessera::generation::v1::LENGTH;
  if (reason == "tool_calls" || reason == "function_call") return tessera::generation::v1::TOOL_CALLS;
  if (reason == "content_filter") return tessera::generation::v1::CONTENT_FILTER;
  return tessera::generation::v1::STOP;
}

// Tool arguments arrive as JSON text; models sometimes emit invalid JSON, which
// is kept (as {"_raw": text}) rather than failing the whole response.
google::protobuf::Struct ArgumentsStruct(const std::string& text) {
  auto parsed = ParseJson(text.empty() ? "{}" : text, "tool arguments");
  if (parsed.ok()) {
    auto as_struct = JsonToStruct(*parsed);
    if (as_struct.ok()) return *as_struct;
  }
  google::protobuf::Struct raw;
  (*raw.mutable_fields())["_raw"].set_string_value(text);
  return raw;
}

void ParseUsage(const Json& usage, tessera::common::v1::Usage* out) {
  if (!usage.is_object()) return;
  auto number = [&usage](const char* key) -> int64_t {
    auto it = usage.find(key);
    return it != usage.end() && it->is_number() ? it->get<int64_t>() : 0;
  };
  out->set_prompt_tokens(number("prompt_tokens"));
  out->set_completion_tokens(number("completion_tokens"));
  out->set_total_tokens(number("total_tokens"));
}

void ParseLogprobs(const Json& logprobs,
                   google::protobuf::RepeatedPtrField<tessera::generation::v1::GeneratedToken>* out) {
  if (!logprobs.is_object()) return;
  auto content = logprobs.find("content");
  if (content == logprobs.end() || !content->is_array()) return;
  for (const Json& item : *content) {
    if (!item.is_object()) continue;
    auto* token = out->Add();
    token->set_text(item.value("token", ""));
    token->set_logprob(item.value("logprob", 0.0f));
    if (auto top = item.find("top_logprobs"); top != item.end() && top->is_array()) {
      for (const Json& alternative : *top) {
        if (!alternative.is_object()) continue;
        auto* entry = token->add_top_logprobs();
        entry->set_token(alternative.value("token", ""));
        entry->set_logprob(alternative.value("logprob", 0.0f));
      }
    }
  }
}

double MillisSince(absl::Time start) { return absl::ToDoubleMilliseconds(absl::Now() - start); }

bool RetryableHttp(int status) {
  return status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599);
}

}  // namespace

// ---------------------------------------------------------------------------
// Request / response mapping

Json BuildChatCompletionBody(const GenerateRequest& request, const OpenAiClientOptions& options,
                             bool stream) {
  Json body = Json::object();
  body["model"] = request.model().empty() ? options.default_model : request.model();
  Json messages = Json::array();
  if (request.messages_size() == 0 && !request.prompt().empty()) {
    messages.push_back({{"role", "user"}, {"content", request.prompt()}});
  }
  for (const auto& message : request.messages()) {
    Json out = {{"role", message.role()}};
    if (message.tool_calls_size() > 0 && message.content().empty()) {
      out["content"] = nullptr;
    } else {
      out["content"] = message.content();
    }
    if (!message.name().empty()) out["name"] = message.name();
    if (!message.tool_call_id().empty()) out["tool_call_id"] = message.tool_call_id();
    if (message.tool_calls_size() > 0) {
      Json calls = Json::array();
      for (const auto& call : message.tool_calls()) {
        calls.push_back({{"id", call.id()},
                         {"type", "function"},
                         {"function",
                          {{"name", call.name()},
                           {"arguments", DumpJson(StructToJson(call.arguments()))}}}});
      }
      out["tool_calls"] = std::move(calls);
    }
    messages.push_back(std::move(out));
  }
  body["messages"] = std::move(messages);

  const auto& sampling = request.sampling();
  if (sampling.has_temperature()) body["temperature"] = sampling.temperature();
  if (sampling.has_top_p()) body["top_p"] = sampling.top_p();
  if (sampling.has_seed()) body["seed"] = static_cast<int64_t>(sampling.seed());
  if (sampling.max_tokens() > 0) body["max_tokens"] = sampling.max_tokens();
  if (sampling.stop_size() > 0) {
    body["stop"] = std::vector<std::string>(sampling.stop().begin(), sampling.stop().end());
  }
  if (sampling.logprobs()) {
    body["logprobs"] = true;
    if (sampling.top_logprobs() > 0) body["top_logprobs"] = sampling.top_logprobs();
  }
  if (options.extended_sampling) {
    if (sampling.has_top_k()) body["top_k"] = sampling.top_k();
    if (sampling.has_repetition_penalty()) body["repetition_penalty"] = sampling.repetition_penalty();
  }
  if (sampling.has_json_schema()) {
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema", {{"name", "response"}, {"schema", StructToJson(sampling.json_schema())}}}};
  }
  if (request.tools_size() > 0) {
    Json tools = Json::array();
    for (const auto& tool : request.tools()) {
      Json function = {{"name", tool.name()}};
      if (!tool.description().empty()) function["description"] = tool.description();
      if (!tool.parameters_json_schema().empty()) {
        auto schema = ParseJson(tool.parameters_json_schema(), "tool schema");
        function["parameters"] = schema.ok() ? *schema : Json::object();
      }
      tools.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    body["tools"] = std::move(tools);
  }
  if (!request.user().empty()) body["user"] = request.user();
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

absl::StatusOr<GenerateResponse> ParseChatCompletionBody(absl::string_view body) {
  auto json = ParseJson(body, "chat completion response");
  if (!json.ok()) return absl::InternalError(json.status().message());
  try {
    GenerateResponse response;
    response.set_request_id(json->value("id", ""));
    response.set_model(json->value("model", ""));
    auto choices = json->find("choices");
    if (choices == json->end() || !choices->is_array() || choices->empty()) {
      return absl::InternalError("backend response has no choices");
    }
    const Json& choice = (*choices)[0];
    const Json& message = choice.at("message");
    if (auto content = message.find("content"); content != message.end() && content->is_string()) {
      response.set_text(content->get<std::string>());
    }
    if (auto calls = message.find("tool_calls"); calls != message.end() && calls->is_array()) {
      for (const Json& call : *calls) {
        auto* out = response.add_tool_calls();
        out->set_id(call.value("id", ""));
        const Json& function = call.at("function");
        out->set_name(function.value("name", ""));
        *out->mutable_arguments() = ArgumentsStruct(function.value("arguments", ""));
      }
    }
    response.set_finish_reason(ParseFinishReason(choice.value("finish_reason", Json())));
    if (auto logprobs = choice.find("logprobs"); logprobs != choice.end()) {
      ParseLogprobs(*logprobs, response.mutable_tokens());
    }
    if (auto usage = json->find("usage"); usage != json->end()) {
      ParseUsage(*usage, response.mutable_usage());
    }
    return response;
  } catch (const std::exception& error) {
    return absl::InternalError(
        absl::StrCat("malformed chat completion response: ", error.what()));
  }
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  double seconds;
  if (absl::SimpleAtod(value, &seconds)) {
    if (!(seconds >= 0) || seconds > 1e7) return std::nullopt;
    return absl::Milliseconds(std::ceil(seconds * 1000));
  }
  absl::Time when;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), absl::UTCTimeZone(), &when,
                      &error)) {
    return std::max(absl::ZeroDuration(), when - now);
  }
  return std::nullopt;
}

absl::Status StatusFromHttp(int http_status, absl::string_view body) {
  std::string message;
  auto json = ParseJson(body, "error body");
  if (json.ok() && json->is_object()) {
    auto error = json->find("error");
    if (error != json->end() && error->is_object()) {
      message = error->value("message", "");
    } else if (error != json->end() && error->is_string()) {
      message = error->get<std::string>();
    } else if (json->contains("detail") && (*json)["detail"].is_string()) {
      message = (*json)["detail"].get<std::string>();
    }
  }
  if (message.empty()) message = std::string(body.substr(0, kMaxMessageChars));
  if (message.size() > kMaxMessageChars) message = message.substr(0, kMaxMessageChars) + "...";
  std::string text = absl::StrCat("backend returned HTTP ", http_status, ": ", message);
  switch (http_status) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(text);
    case 401:
      return absl::UnauthenticatedError(text);
    case 403:
      return absl::PermissionDeniedError(text);
    case 404:
      return absl::NotFoundError(text);
    case 408:
      return absl::DeadlineExceededError(text);
    case 409:
      return absl::AbortedError(text);
    case 413:
      return absl::InvalidArgumentError(text);
    case 429:
      return absl::ResourceExhaustedError(text);
    case 500:
    case 502:
    case 503:
    case 504:
      return absl::UnavailableError(text);
    default:
      return http_status >= 500 ? absl::InternalError(text) : absl::UnknownError(text);
  }
}

// ---------------------------------------------------------------------------
// Transport

struct OpenAiClient::HttpResult {
  absl::Status status;  // transport or HTTP error; OK for 2xx
  int http_status = 0;
  std::string body;     // whole body, unless streamed to a callback
  std::optional<absl::Duration> retry_after;
  bool retryable = false;
};

// Easy handles keep their connection cache across curl_easy_reset, so returning
// them to a pool reuses connections on the next call from any thread.
class OpenAiClient::HandlePool {
 public:
  ~HandlePool() {
    for (CURL* handle : free_) curl_easy_cleanup(handle);
  }
  CURL* Acquire() {
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        CURL* handle = free_.back();
        free_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* handle) {
    curl_easy_reset(handle);
    absl::MutexLock lock(&mu_);
    free_.push_back(handle);
  }

 private:
  absl::Mutex mu_;
  std::vector<CURL*> free_ ABSL_GUARDED_BY(mu_);
};

namespace {

struct TransferState {
  CURL* handle = nullptr;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names, last response only
  const std::function<bool(absl::string_view)>* on_body = nullptr;
  bool cancelled = false;
};

size_t WriteCallback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(state->handle, CURLINFO_RESPONSE_CODE, &status);
  if (state->on_body != nullptr && status >= 200 && status < 300) {
    if (!(*state->on_body)(absl::string_view(data, bytes))) {
      state->cancelled = true;
      return 0;  // aborts the transfer
    }
    return bytes;
  }
  if (state->body.size() < kMaxErrorBodyBytes || state->on_body == nullptr) {
    state->body.append(data, bytes);
  }
  return bytes;
}

size_t HeaderCallback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t bytes = size * count;
  absl::string_view line(data, bytes);
  if (absl::StartsWith(line, "HTTP/")) {
    state->headers.clear();  // a new response (after 100 Continue or a redirect)
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
    state->headers[name] = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return bytes;
}

}  // namespace

OpenAiClient::OpenAiClient(OpenAiClientOptions options, std::string api_key)
    : options_(std::move(options)), api_key_(std::move(api_key)), pool_(new HandlePool()) {}

OpenAiClient::~OpenAiClient() = default;

absl::StatusOr<std::unique_ptr<OpenAiClient>> OpenAiClient::Create(OpenAiClientOptions options) {
  if (!absl::StartsWith(options.base_url, "http://") &&
      !absl::StartsWith(options.base_url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("base_url must start with http:// or https://, got \"", options.base_url, "\""));
  }
  while (absl::EndsWith(options.base_url, "/")) options.base_url.pop_back();
  std::string api_key;
  if (!options.api_key_env.empty()) {
    const char* value = std::getenv(options.api_key_env.c_str());
    if (value == nullptr || *value == '\0') {
      return absl::FailedPreconditionError(absl::StrCat(
          "environment variable ", options.api_key_env, " (the backend's API key) is not set"));
    }
    api_key = value;
  }
  if (options.max_retries < 0) options.max_retries = 0;
  GlobalCurlInit();
  return std::unique_ptr<OpenAiClient>(new OpenAiClient(std::move(options), std::move(api_key)));
}

OpenAiClient::HttpResult OpenAiClient::Post(absl::string_view path, const std::string& body,
                                            const std::function<bool(absl::string_view)>* on_body) {
  HttpResult result;
  CURL* handle = pool_->Acquire();
  if (handle == nullptr) {
    result.status = absl::InternalError("curl_easy_init failed");
    return result;
  }
  TransferState state;
  state.handle = handle;
  state.on_body = on_body;
  std::string url = absl::StrCat(options_.base_url, path);

  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, on_body ? "Accept: text/event-stream" : "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  // The hop's W3C trace context, so the backend's spans join the caller's trace.
  std::string traceparent;
  if (!CurrentTraceparent().empty()) {
    traceparent = absl::StrCat("traceparent: ", CurrentTraceparent());
    headers = curl_slist_append(headers, traceparent.c_str());
  }
  std::string authorization;
  if (!api_key_.empty()) {
    authorization = absl::StrCat("Authorization: Bearer ", api_key_);
    headers = curl_slist_append(headers, authorization.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &WriteCallback);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &HeaderCallback);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.request_timeout)));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // required with timeouts in threads
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");

  attempts_.fetch_add(1);
  CURLcode code = curl_easy_perform(handle);
  long http_status = 0;
  long new_connections = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &http_status);
  curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &new_connections);
  connections_opened_.fetch_add(new_connections);
  curl_slist_free_all(headers);
  pool_->Release(handle);

  result.http_status = static_cast<int>(http_status);
  result.body = std::move(state.body);
  if (auto it = state.headers.find("retry-after-ms"); it != state.headers.end()) {
    double millis;
    if (absl::SimpleAtod(it->second, &millis) && millis >= 0) {
      result.retry_after = absl::Milliseconds(std::ceil(millis));
    }
  }
  if (!result.retry_after) {
    if (auto it = state.headers.find("retry-after"); it != state.headers.end()) {
      result.retry_after = ParseRetryAfter(it->second, absl::Now());
    }
  }

  if (state.cancelled) {
    result.status = absl::CancelledError("stream cancelled by the caller");
    return result;
  }
  if (code != CURLE_OK) {
    // The URL (with host) is fine to report; the API key never is.
    std::string what = absl::StrCat("request to ", url, " failed: ", curl_easy_strerror(code));
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        result.status = absl::DeadlineExceededError(what);
        result.retryable = true;
        break;
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:
      case CURLE_SSL_CONNECT_ERROR:
        result.status = absl::UnavailableError(what);
        result.retryable = true;
        break;
      default:
        result.status = absl::InternalError(what);
        break;
    }
    return result;
  }
  if (http_status < 200 || http_status >= 300) {
    result.status = StatusFromHttp(result.http_status, result.body);
    result.retryable = RetryableHttp(result.http_status);
  }
  return result;
}

absl::Status OpenAiClient::WithRetries(const std::function<HttpResult()>& attempt,
                                       const std::function<bool()>& may_retry, HttpResult* last) {
  absl::BitGen random;
  for (int attempt_index = 0;; ++attempt_index) {
    *last = attempt();
    if (last->status.ok()) return absl::OkStatus();
    if (!last->retryable || attempt_index >= options_.max_retries || !may_retry()) {
      return last->status;
    }
    absl::Duration delay;
    if (last->retry_after.has_value()) {
      // The server said when; waiting longer than we are willing to is a failure now.
      if (*last->retry_after > options_.max_retry_after) return last->status;
      delay = *last->retry_after;
    } else {
      // Exponential backoff with "equal jitter": half fixed, half random, so
      // clients that failed together do not retry together.
      absl::Duration base = std::min(options_.max_backoff,
                                     options_.initial_backoff * std::pow(2.0, attempt_index));
      delay = base / 2 + absl::Uniform(random, 0.0, 1.0) * (base / 2);
    }
    retries_.fetch_add(1);
    if (options_.sleep) {
      options_.sleep(delay);
    } else {
      absl::SleepFor(delay);
    }
  }
}

absl::StatusOr<GenerateResponse> OpenAiClient::Generate(const GenerateRequest& request) {
  absl::Time start = absl::Now();
  std::string body = DumpJson(BuildChatCompletionBody(request, options_, false));
  HttpResult result;
  absl::Status status = WithRetries([&] { return Post("/chat/completions", body, nullptr); },
                                    [] { return true; }, &result);
  if (!status.ok()) return status;
  auto response = ParseChatCompletionBody(result.body);
  if (!response.ok()) return response.status();
  if (!request.request_id().empty()) response->set_request_id(request.request_id());
  double total = MillisSince(start);
  response->mutable_timings()->set_total_ms(total);
  response->mutable_timings()->set_ttft_ms(total);
  if (response->usage().completion_tokens() > 0) {
    response->mutable_timings()->set_tpot_ms(total / response->usage().completion_tokens());
  }
  return response;
}

absl::Status OpenAiClient::GenerateStream(const GenerateRequest& request,
                                          const StreamCallback& on_chunk) {
  absl::Time start = absl::Now();
  std::string body = DumpJson(BuildChatCompletionBody(request, options_, true));

  // State of one attempt's stream; reset per attempt.
  struct PendingToolCall {
    std::string id, name, arguments;
  };
  bool delivered = false;
  bool done = false;
  absl::Status stream_error;
  FinishReason finish = tessera::generation::v1::FINISH_REASON_UNSPECIFIED;
  tessera::common::v1::Usage usage;
  std::map<int, PendingToolCall> tool_calls;
  double ttft_ms = 0;
  int64_t pieces = 0;
  std::string request_id = request.request_id();

  auto emit_final = [&]() -> bool {
    GenerateStreamResponse last;
    last.set_request_id(request_id);
    last.set_elapsed_ms(MillisSince(start));
    last.set_finish_reason(finish == tessera::generation::v1::FINISH_REASON_UNSPECIFIED
                               ? tessera::generation::v1::STOP
                               : finish);
    *last.mutable_usage() = usage;
    for (const auto& [index, call] : tool_calls) {
      auto* out = last.add_tool_calls();
      out->set_id(call.id);
      out->set_name(call.name);
      *out->mutable_arguments() = ArgumentsStruct(call.arguments);
    }
    double total = MillisSince(start);
    last.mutable_timings()->set_ttft_ms(ttft_ms);
    last.mutable_timings()->set_total_ms(total);
    int64_t completion = usage.completion_tokens() > 0 ? usage.completion_tokens() : pieces;
    if (completion > 1) last.mutable_timings()->set_tpot_ms((total - ttft_ms) / (completion - 1));
    delivered = true;
    return on_chunk(last);
  };

  auto handle_event = [&](const SseEvent& event) -> bool {
    if (event.data == "[DONE]") {
      done = true;
      return emit_final();
    }
    auto json = ParseJson(event.data, "stream chunk");
    if (!json.ok() || !json->is_object()) {
      stream_error = absl::InternalError("backend sent a malformed stream chunk");
      return false;
    }
    if (auto error = json->find("error"); error != json->end()) {
      stream_error = absl::UnavailableError(absl::StrCat(
          "backend error mid-stream: ",
          error->is_object() ? error->value("message", "") : DumpJson(*error)));
      return false;
    }
    if (request_id.empty()) request_id = json->value("id", "");
    if (auto found = json->find("usage"); found != json->end() && found->is_object()) {
      ParseUsage(*found, &usage);
    }
    auto choices = json->find("choices");
    if (choices == json->end() || !choices->is_array() || choices->empty()) return true;
    const Json& choice = (*choices)[0];
    if (!choice.is_object()) return true;
    if (auto reason = choice.find("finish_reason"); reason != choice.end() && !reason->is_null()) {
      finish = ParseFinishReason(*reason);
    }
    GenerateStreamResponse piece;
    if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
      if (auto content = delta->find("content"); content != delta->end() && content->is_string() &&
                                                 !content->get_ref<const std::string&>().empty()) {
        piece.add_tokens()->set_text(content->get<std::string>());
      }
      if (auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array()) {
        // Tool calls stream as fragments keyed by index: id and name first,
        // then the arguments text in pieces.
        for (const Json& call : *calls) {
          if (!call.is_object()) continue;
          PendingToolCall& pending = tool_calls[call.value("index", 0)];
          if (call.contains("id") && call["id"].is_string()) pending.id = call["id"];
          if (auto function = call.find("function"); function != call.end() && function->is_object()) {
            if (function->contains("name") && (*function)["name"].is_string()) {
              pending.name += (*function)["name"].get<std::string>();
            }
            if (function->contains("arguments") && (*function)["arguments"].is_string()) {
              pending.arguments += (*function)["arguments"].get<std::string>();
            }
          }
        }
      }
    }
    if (auto logprobs = choice.find("logprobs"); logprobs != choice.end() && piece.tokens_size() > 0) {
      google::protobuf::RepeatedPtrField<tessera::generation::v1::GeneratedToken> tokens;
      ParseLogprobs(*logprobs, &tokens);
      if (tokens.size() == 1) {
        piece.mutable_tokens(0)->set_logprob(tokens[0].logprob());
        *piece.mutable_tokens(0)->mutable_top_logprobs() = tokens[0].top_logprobs();
      }
    }
    if (piece.tokens_size() == 0) return true;
    if (pieces++ == 0) ttft_ms = MillisSince(start);
    piece.set_request_id(request_id);
    piece.set_elapsed_ms(MillisSince(start));
    delivered = true;
    return on_chunk(piece);
  };

  std::optional<SseParser> parser;
  std::function<bool(absl::string_view)> on_body = [&parser](absl::string_view bytes) {
    return parser->Feed(bytes);
  };
  HttpResult result;
  absl::Status status = WithRetries(
      [&] {
        // Nothing was delivered if we get here again: start the stream afresh.
        parser.emplace(handle_event);
        stream_error = absl::OkStatus();
        finish = tessera::generation::v1::FINISH_REASON_UNSPECIFIED;
        usage.Clear();
        tool_calls.clear();
        pieces = 0;
        done = false;
        HttpResult attempt = Post("/chat/completions", body, &on_body);
        // The parser stopped us: either the caller cancelled, or the stream was bad.
        if (!stream_error.ok() && absl::IsCancelled(attempt.status)) {
          attempt.status = stream_error;
          attempt.retryable = !delivered;
        }
        return attempt;
      },
      [&delivered] { return !delivered; }, &result);
  if (!status.ok()) return status;
  if (!stream_error.ok()) return stream_error;
  if (!done) {
    parser->Finish();
    if (!stream_error.ok()) return stream_error;
    if (!done) {
      if (finish == tessera::generation::v1::FINISH_REASON_UNSPECIFIED) {
        return absl::UnavailableError("backend closed the stream before it finished");
      }
      // Some servers end without "[DONE]" after the finish chunk.
      if (!emit_final()) return absl::CancelledError("stream cancelled by the caller");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<EmbedResponse> OpenAiClient::Embed(const EmbedRequest& request) {
  if (request.inputs_size() == 0) return absl::InvalidArgumentError("no inputs to embed");
  Json body = {{"model", request.model().empty() ? options_.default_model : request.model()},
               {"input", std::vector<std::string>(request.inputs().begin(), request.inputs().end())},
               {"encoding_format", "float"}};
  std::string text = DumpJson(body);
  HttpResult result;
  absl::Status status = WithRetries([&] { return Post("/embeddings", text, nullptr); },
                                    [] { return true; }, &result);
  if (!status.ok()) return status;
  auto json = ParseJson(result.body, "embeddings response");
  if (!json.ok()) return absl::InternalError(json.status().message());
  try {
    EmbedResponse response;
    response.set_model(json->value("model", request.model()));
    const Json& data = json->at("data");
    if (!data.is_array() || data.size() != static_cast<size_t>(request.inputs_size())) {
      return absl::InternalError(absl::StrCat("backend returned ", data.size(),
                                              " embeddings for ", request.inputs_size(), " inputs"));
    }
    std::vector<const Json*> by_index(data.size(), nullptr);
    for (const Json& item : data) {
      size_t index = item.at("index").get<size_t>();
      if (index >= by_index.size() || by_index[index] != nullptr) {
        return absl::InternalError("backend returned embeddings with bad indices");
      }
      by_index[index] = &item.at("embedding");
    }
    bool normalize = request.has_normalize() && request.normalize();
    for (const Json* values : by_index) {
      auto* embedding = response.add_embeddings();
      double norm = 0;
      for (const Json& value : *values) {
        float number = value.get<float>();
        embedding->add_values(number);
        norm += static_cast<double>(number) * number;
      }
      if (normalize && norm > 0) {
        float scale = static_cast<float>(1.0 / std::sqrt(norm));
        for (float& value : *embedding->mutable_values()) value *= scale;
      }
    }
    response.set_dimension(response.embeddings(0).values_size());
    if (auto usage = json->find("usage"); usage != json->end() && usage->is_object()) {
      int64_t tokens = usage->value("prompt_tokens", int64_t{0});
      response.mutable_usage()->set_prompt_tokens(tokens);
      response.mutable_usage()->set_embedding_tokens(tokens);
      response.mutable_usage()->set_total_tokens(usage->value("total_tokens", tokens));
    }
    return response;
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat("malformed embeddings response: ", error.what()));
  }
}

OpenAiClient::Stats OpenAiClient::stats() const {
  return {attempts_.load(), retries_.load(), connections_opened_.load()};
}

}  // namespace tessera::gateway
