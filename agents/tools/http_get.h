// The `http_get` tool: fetches a URL from an operator-approved set of hosts.
// Defences, in order, for the URL and for every redirect hop:
//   scheme http/https only, no credentials in the URL; host on the allow-list;
//   DNS resolved by us and EVERY address checked against private, loopback,
//   link-local, CGNAT, multicast and reserved ranges (IPv4 and IPv6, including
//   IPv4-mapped IPv6) unless that exact address is explicitly allowed; curl then
//   connects to the checked address only (CURLOPT_RESOLVE pinning, so a second
//   DNS answer cannot rebind); redirects are followed by us, at most N, each one
//   re-checked; the body is capped at max_bytes and the whole call at the
//   timeout or the caller's deadline.
#ifndef TESSERA_AGENTS_TOOLS_HTTP_GET_H_
#define TESSERA_AGENTS_TOOLS_HTTP_GET_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agents/tools/tool.h"

namespace tessera::agents {

struct HttpGetOptions {
  // Lower-case host names; "*.example.com" allows subdomains of example.com.
  std::set<std::string> allowed_hosts;
  // Addresses (as printed, e.g. "127.0.0.1") exempt from the private-range check;
  // meant for tests against a local server.
  std::set<std::string> allowed_private_addresses;
  size_t max_bytes = 1 << 20;
  absl::Duration timeout = absl::Seconds(10);
  int max_redirects = 3;
};

// True for addresses an agent must not reach (see the list above). `address` is
// a numeric IPv4 or IPv6 address; anything unparsable counts as private.
bool IsPrivateAddress(const std::string& address);

// Arguments {"url": string}; result {"url", "status", "content_type", "body"}.
class HttpGetTool : public Tool {
 public:
  explicit HttpGetTool(HttpGetOptions options);

  std::string name() const override { return "http_get"; }
  std::string description() const override;
  Json parameters_schema() const override;
  std::string result_type() const override { return "object"; }
  absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time deadline) override;

 private:
  HttpGetOptions options_;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_HTTP_GET_H_
