#include "agents/tools/http_get.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

// A tiny HTTP server on 127.0.0.1 (python3's http.server) for the happy paths.
constexpr char kServer[] = R"py(
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == '/hello':
            body = b'hello world'
        elif self.path == '/big':
            body = b'x' * (2 * 1024 * 1024)
        elif self.path == '/slow':
            time.sleep(2); body = b'late'
        elif self.path.startswith('/redirect-out'):
            self.send_response(302); self.send_header('Location', 'http://evil.example/'); self.end_headers(); return
        elif self.path.startswith('/redirect-in'):
            self.send_response(302); self.send_header('Location', '/hello'); self.end_headers(); return
        elif self.path.startswith('/redirect-meta'):
            self.send_response(302); self.send_header('Location', 'http://169.254.169.254/latest/meta-data'); self.end_headers(); return
        else:
            self.send_response(404); self.end_headers(); return
        self.send_response(200); self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
)py";

class HttpGetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "python3 is not installed: no local HTTP server";
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    server_ = fork();
    ASSERT_GE(server_, 0);
    if (server_ == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      close(pipe_fds[0]);
      execl("/usr/bin/python3", "python3", "-c", kServer, static_cast<char*>(nullptr));
      _exit(127);
    }
    close(pipe_fds[1]);
    FILE* out = fdopen(pipe_fds[0], "r");
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(fscanf(out, "%d", &port_), 1) << "the test server did not start";
    fclose(out);
  }
  void TearDown() override {
    if (server_ > 0) {
      kill(server_, SIGTERM);
      waitpid(server_, nullptr, 0);
    }
  }
  std::string Url(const std::string& host, const std::string& path) {
    return absl::StrCat("http://", host, ":", port_, path);
  }
  HttpGetOptions LocalOptions() {
    HttpGetOptions options;
    options.allowed_hosts = {"127.0.0.1", "localhost", "evil.example", "169.254.169.254"};
    options.allowed_private_addresses = {"127.0.0.1"};
    options.max_bytes = 1 << 20;
    options.timeout = absl::Milliseconds(800);
    return options;
  }
  pid_t server_ = -1;
  int port_ = 0;
};

TEST_F(HttpGetTest, FetchesFromAnAllowedLocalServer) {
  HttpGetTool tool(LocalOptions());
  absl::StatusOr<Json> result = tool.Invoke({{"url", Url("127.0.0.1", "/hello")}}, absl::InfiniteFuture());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ((*result)["status"], 200);
  EXPECT_EQ((*result)["body"], "hello world");
  EXPECT_EQ((*result)["content_type"], "text/plain");
  // A same-host redirect is followed (and re-checked).
  absl::StatusOr<Json> redirected = tool.Invoke({{"url", Url("127.0.0.1", "/redirect-in")}}, absl::InfiniteFuture());
  ASSERT_TRUE(redirected.ok()) << redirected.status();
  EXPECT_EQ((*redirected)["body"], "hello world");
}

TEST_F(HttpGetTest, RefusesPrivateAddressesUnlessExplicitlyAllowed) {
  HttpGetOptions options = LocalOptions();
  options.allowed_private_addresses.clear();
  HttpGetTool tool(options);
  for (const char* host : {"127.0.0.1", "localhost"}) {
    absl::StatusOr<Json> result = tool.Invoke({{"url", Url(host, "/hello")}}, absl::InfiniteFuture());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied) << host;
    EXPECT_TRUE(absl::StrContains(result.status().message(), "private/loopback/link-local")) << result.status();
  }
  HttpGetOptions wide;
  wide.allowed_hosts = {"10.1.2.3", "169.254.169.254", "[::1]", "::1", "0.0.0.0", "2130706433", "192.168.0.1", "0x7f.1"};
  HttpGetTool open_tool(wide);
  for (const char* url : {"http://10.1.2.3/", "http://169.254.169.254/latest/meta-data", "http://[::1]/",
                          "http://0.0.0.0/", "http://192.168.0.1/",
                          // Loopback spelled as one decimal number and in hex.
                          "http://2130706433/", "http://0x7f.1/"}) {
    absl::StatusOr<Json> result = open_tool.Invoke({{"url", url}}, absl::InfiniteFuture());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied) << url << ": " << result.status();
  }
}

TEST_F(HttpGetTest, AllowListSchemesRedirectsSizeAndTime) {
  HttpGetTool tool(LocalOptions());
  auto get = [&](const std::string& url) { return tool.Invoke({{"url", url}}, absl::InfiniteFuture()); };
  EXPECT_TRUE(absl::StrContains(get("http://example.com/").status().message(), "not on the allow-list"));
  EXPECT_TRUE(absl::StrContains(get("ftp://127.0.0.1/x").status().message(), "scheme 'ftp' is not allowed"));
  EXPECT_TRUE(absl::StrContains(get("file:///etc/passwd").status().message(), "not allowed"));
  EXPECT_TRUE(absl::StrContains(get("http://user:pw@127.0.0.1/").status().message(), "credentials"));
  // Redirect to a host outside the list: refused before connecting anywhere.
  HttpGetOptions strict = LocalOptions();
  strict.allowed_hosts = {"127.0.0.1"};
  HttpGetTool strict_tool(strict);
  absl::StatusOr<Json> out = strict_tool.Invoke({{"url", Url("127.0.0.1", "/redirect-out")}}, absl::InfiniteFuture());
  EXPECT_TRUE(absl::StrContains(out.status().message(), "'evil.example' is not on the allow-list (redirect target)"))
      << out.status();
  // Redirect to the metadata address: host allowed, address refused.
  absl::StatusOr<Json> meta = get(Url("127.0.0.1", "/redirect-meta"));
  EXPECT_EQ(meta.status().code(), absl::StatusCode::kPermissionDenied) << meta.status();
  absl::StatusOr<Json> big = get(Url("127.0.0.1", "/big"));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kOutOfRange) << big.status();
  absl::Time start = absl::Now();
  absl::StatusOr<Json> slow = get(Url("127.0.0.1", "/slow"));
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1800));
}

TEST(PrivateAddressTest, Ranges) {
  for (const char* address : {"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                              "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1",
                              "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1", "not an ip"}) {
    EXPECT_TRUE(IsPrivateAddress(address)) << address;
  }
  for (const char* address : {"8.8.8.8", "93.184.216.34", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(IsPrivateAddress(address)) << address;
  }
}

}  // namespace
}  // namespace tessera::agents
