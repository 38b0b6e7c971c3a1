#include "agents/tools/http_get.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera::agents {

namespace {

bool PrivateV4(uint32_t a) {  // Host byte order.
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) ||    // "this" network
         in(0x0A000000, 8) ||    // 10/8
         in(0x64400000, 10) ||   // 100.64/10 carrier-grade NAT
         in(0x7F000000, 8) ||    // loopback
         in(0xA9FE0000, 16) ||   // link-local (cloud metadata 169.254.169.254)
         in(0xAC100000, 12) ||   // 172.16/12
         in(0xC0000000, 24) ||   // 192.0.0/24 protocol assignments
         in(0xC0A80000, 16) ||   // 192.168/16
         in(0xC6120000, 15) ||   // 198.18/15 benchmarking
         in(0xE0000000, 4) ||    // multicast
         in(0xF0000000, 4);      // reserved + broadcast
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void EnsureCurlInitialised() {
  static std::once_flag once;
  std::call_once(once, [] { static CurlGlobal global; });
}

struct UrlParts {
  std::string scheme;
  std::string host;  // Without IPv6 brackets.
  int port = 0;
};

absl::StatusOr<UrlParts> ParseUrl(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), &curl_url_cleanup);
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("http_get: malformed URL '", url, "'"));
  }
  auto part = [&](CURLUPart which, unsigned flags) -> std::string {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, flags) != CURLUE_OK || value == nullptr) return "";
    std::string out(value);
    curl_free(value);
    return out;
  };
  UrlParts parts;
  parts.scheme = absl::AsciiStrToLower(part(CURLUPART_SCHEME, 0));
  if (parts.scheme != "http" && parts.scheme != "https") {
    return absl::PermissionDeniedError(
        absl::StrCat("http_get: scheme '", parts.scheme, "' is not allowed (http and https only)"));
  }
  if (!part(CURLUPART_USER, 0).empty() || !part(CURLUPART_PASSWORD, 0).empty()) {
    return absl::PermissionDeniedError("http_get: credentials in URLs are not allowed");
  }
  parts.host = absl::AsciiStrToLower(part(CURLUPART_HOST, 0));
  if (parts.host.size() >= 2 && parts.host.front() == '[' && parts.host.back() == ']') {
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  }
  if (parts.host.empty()) return absl::InvalidArgumentError(absl::StrCat("http_get: URL has no host: ", url));
  std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  parts.port = port.empty() ? 0 : std::atoi(port.c_str());
  return parts;
}

bool HostAllowed(const std::set<std::string>& allowed, const std::string& host) {
  for (const std::string& pattern : allowed) {
    if (pattern == host) return true;
    if (absl::StartsWith(pattern, "*.") && absl::EndsWith(host, pattern.substr(1))) return true;
  }
  return false;
}

// Resolves `host` and returns one address to connect to, after checking all.
absl::StatusOr<std::string> ResolveChecked(const UrlParts& url, const HttpGetOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("http_get: cannot resolve '", url.host, "': ", gai_strerror(rc)));
  }
  std::vector<std::string> addresses;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char buffer[INET6_ADDRSTRLEN] = {0};
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, buffer, sizeof(buffer));
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, buffer, sizeof(buffer));
    } else {
      continue;
    }
    addresses.push_back(buffer);
  }
  freeaddrinfo(result);
  if (addresses.empty()) return absl::UnavailableError(absl::StrCat("http_get: no address for '", url.host, "'"));
  for (const std::string& address : addresses) {
    if (IsPrivateAddress(address) && options.allowed_private_addresses.count(address) == 0) {
      return absl::PermissionDeniedError(absl::StrCat("http_get: host '", url.host, "' resolves to ", address,
                                                      ", a private/loopback/link-local address"));
    }
  }
  return addresses.front();
}

struct Body {
  std::string data;
  size_t limit = 0;
  bool overflow = false;
};

size_t WriteBody(char* ptr, size_t size, size_t count, void* user) {
  Body* body = static_cast<Body*>(user);
  size_t bytes = size * count;
  if (body->data.size() + bytes > body->limit) {
    body->overflow = true;
    return 0;  // Makes curl abort the transfer.
  }
  body->data.append(ptr, bytes);
  return bytes;
}

}  // namespace

bool IsPrivateAddress(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return PrivateV4(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return true;
  const uint8_t* b = v6.s6_addr;
  static const uint8_t kZero[16] = {0};
  if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  bool mapped = std::memcmp(b, kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff;
  bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
               std::memcmp(b + 4, kZero, 8) == 0;
  bool compat = std::memcmp(b, kZero, 12) == 0;  // Deprecated ::a.b.c.d
  if (mapped || nat64 || compat) {
    uint32_t embedded = (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
    return PrivateV4(embedded);
  }
  if ((b[0] & 0xfe) == 0xfc) return true;                 // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10 site-local
  if (b[0] == 0xff) return true;                          // multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true;  // documentation
  return false;
}

HttpGetTool::HttpGetTool(HttpGetOptions options) : options_(std::move(options)) {
  std::set<std::string> lowered;
  for (const std::string& host : options_.allowed_hosts) lowered.insert(absl::AsciiStrToLower(host));
  options_.allowed_hosts = std::move(lowered);
  EnsureCurlInitialised();
}

std::string HttpGetTool::description() const {
  return absl::StrCat("Fetches a web page by URL (GET). Allowed hosts: ",
                      absl::StrJoin(options_.allowed_hosts, ", "), ".");
}

Json HttpGetTool::parameters_schema() const {
  return Json::parse(R"({
    "type": "object",
    "properties": {"url": {"type": "string", "minLength": 8, "maxLength": 2048}},
    "required": ["url"],
    "additionalProperties": false
  })");
}

absl::StatusOr<Json> HttpGetTool::Invoke(const Json& arguments, absl::Time deadline) {
  auto url_arg = arguments.find("url");
  if (!arguments.is_object() || url_arg == arguments.end() || !url_arg->is_string()) {
    return absl::InvalidArgumentError("http_get: argument 'url' (a string) is required");
  }
  std::string url = url_arg->get<std::string>();
  absl::Time stop = std::min(deadline, absl::Now() + options_.timeout);
  for (int hop = 0; hop <= options_.max_redirects; ++hop) {
    absl::StatusOr<UrlParts> parts = ParseUrl(url);
    if (!parts.ok()) return parts.status();
    if (!HostAllowed(options_.allowed_hosts, parts->host)) {
      return absl::PermissionDeniedError(absl::StrCat("http_get: host '", parts->host, "' is not on the allow-list",
                                                      hop > 0 ? " (redirect target)" : ""));
    }
    absl::StatusOr<std::string> address = ResolveChecked(*parts, options_);
    if (!address.ok()) return address.status();

    int64_t remaining_ms = absl::ToInt64Milliseconds(stop - absl::Now());
    if (remaining_ms <= 0) return absl::DeadlineExceededError("http_get: out of time");

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (curl == nullptr) return absl::InternalError("http_get: curl_easy_init failed");
    std::string pinned = absl::StrCat(parts->host, ":", parts->port, ":",
                                      address->find(':') != std::string::npos ? absl::StrCat("[", *address, "]") : *address);
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> resolve(curl_slist_append(nullptr, pinned.c_str()),
                                                                        &curl_slist_free_all);
    Body body;
    body.limit = options_.max_bytes;
    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(remaining_ms));
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "tessera-agent/1");
    curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");  // Never route through an env-configured proxy.
    CURLcode rc = curl_easy_perform(curl.get());
    if (body.overflow) {
      return absl::OutOfRangeError(absl::StrCat("http_get: response larger than ", options_.max_bytes, " bytes"));
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(absl::StrCat("http_get: timed out: ", error_buffer));
    if (rc != CURLE_OK) {
      return absl::UnavailableError(absl::StrCat("http_get: ", curl_easy_strerror(rc), " ", error_buffer));
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 && status < 400) {
      char* location = nullptr;
      curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &location);
      if (location == nullptr) return absl::UnavailableError(absl::StrCat("http_get: redirect ", status, " without Location"));
      url = location;
      continue;
    }
    char* content_type = nullptr;
    curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &content_type);
    return Json{{"url", url},
                {"status", status},
                {"content_type", content_type != nullptr ? content_type : ""},
                {"body", body.data}};
  }
  return absl::PermissionDeniedError(absl::StrCat("http_get: more than ", options_.max_redirects, " redirects"));
}

}  // namespace tessera::agents
