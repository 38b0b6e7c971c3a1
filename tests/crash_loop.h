// The kill-at-a-random-point loop shared by the crash-recovery tests: clients
// drive the server, it is killed with SIGKILL after a random delay, the clients
// stop, the server restarts on the same data directory, and the test checks
// what survived.
#ifndef TESSERA_TESTS_CRASH_LOOP_H_
#define TESSERA_TESTS_CRASH_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/server_process.h"

namespace tessera::testing {

// TESSERA_CRASH_REPETITIONS, or `fallback` when unset (small, so CI stays fast).
int CrashRepetitions(int fallback = 3);

// What one client thread of one round gets.
struct CrashRound {
  std::string target;  // The server of this round.
  int round = 0;
  int client = 0;
  // Becomes true right after the kill; clients return soon after.
  const std::atomic<bool>* killed = nullptr;
};

struct CrashLoopOptions {
  int repetitions = 3;
  int clients = 1;  // Client threads per round (0: the server works alone).
  // The kill comes uniformly at random in [min_delay, max_delay] after the
  // round starts (after `before_round`).
  absl::Duration min_delay = absl::Milliseconds(100);
  absl::Duration max_delay = absl::Milliseconds(600);
  uint32_t seed = 2024;
  // Optional: runs before the clients of each round start (e.g. starts a job).
  std::function<void(int round, const std::string& target)> before_round;
  // Optional: runs after each restart (e.g. checks invariants so far).
  std::function<void(int round, const std::string& target)> after_restart;
};

// Runs the rounds; an error when the server fails to restart.
absl::Status RunCrashLoop(ServerProcess& server, const CrashLoopOptions& options,
                          const std::function<void(const CrashRound&)>& client);

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_CRASH_LOOP_H_
