#include "tests/crash_loop.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tessera::testing {

int CrashRepetitions(int fallback) {
  const char* value = std::getenv("TESSERA_CRASH_REPETITIONS");
  return value != nullptr ? std::max(1, std::atoi(value)) : fallback;
}

absl::Status RunCrashLoop(ServerProcess& server, const CrashLoopOptions& options,
                          const std::function<void(const CrashRound&)>& client) {
  std::mt19937 random(options.seed);
  const int64_t min_ms = absl::ToInt64Milliseconds(options.min_delay);
  const int64_t span_ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(options.max_delay) - min_ms);
  for (int round = 0; round < options.repetitions; ++round) {
    const std::string target = server.target();
    if (options.before_round) options.before_round(round, target);
    std::atomic<bool> killed{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < options.clients; ++c) {
      clients.emplace_back([&, c] { client(CrashRound{target, round, c, &killed}); });
    }
    const int64_t delay_ms = min_ms + static_cast<int64_t>(random() % (span_ms + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    server.Kill();
    killed = true;
    for (auto& thread : clients) thread.join();
    std::printf("crash round %d: killed after %lld ms\n", round, static_cast<long long>(delay_ms));
    absl::Status restarted = server.Start();
    if (!restarted.ok()) {
      return absl::InternalError(absl::StrCat("restart after kill ", round, ": ", restarted.message()));
    }
    if (options.after_restart) options.after_restart(round, server.target());
  }
  return absl::OkStatus();
}

}  // namespace tessera::testing
