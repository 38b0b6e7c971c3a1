// Starts the real `tessera_server` binary as a child process on a loopback port
// for integration tests, and stops it gracefully (SIGTERM) or abruptly (SIGKILL).
#ifndef TESSERA_TESTS_SERVER_PROCESS_H_
#define TESSERA_TESTS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/shared_data.h"

namespace tessera::testing {

// A fresh directory under the test's temporary directory.
std::string MakeTempDir(const std::string& name);

// A TCP port on 127.0.0.1 that was free a moment ago (for --http_port).
int FreeLoopbackPort();

// The body of an HTTP GET of `url` ("" when it fails); for /metrics scraping.
std::string FetchUrl(const std::string& url);

// The value of the Prometheus sample `series` (name with its labels, as
// rendered) in `text`, or -1 when absent.
double PrometheusValue(const std::string& text, const std::string& series);

class ServerProcess {
 public:
  // `data_dir` is kept across restarts; `extra_flags` are appended to the command.
  ServerProcess(std::string data_dir, std::vector<std::string> extra_flags = {});
  ~ServerProcess();

  // Sends the server's stdout and stderr (its log) to `path`, appended across
  // restarts; set before Start().
  void set_log_file(std::string path) { log_file_ = std::move(path); }

  // Starts the server and waits until it reports its port and answers health.
  absl::Status Start();
  // SIGKILL: no drain, no clean close of the database.
  void Kill();
  // SIGTERM, then waits for the exit; returns the exit code (-1 if killed).
  int Terminate();
  // Sends SIGTERM without waiting.
  void SignalTerminate();
  // Waits for the process to exit and returns its exit code.
  int WaitForExit();

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  std::string data_dir_;
  std::vector<std::string> extra_flags_;
  std::string log_file_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_SERVER_PROCESS_H_
