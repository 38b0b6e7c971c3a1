// Process-wide logging through spdlog (Debian's Abseil has no absl/log).
#ifndef TESSERA_COMMON_LOGGING_H_
#define TESSERA_COMMON_LOGGING_H_

#include <spdlog/spdlog.h>

#include <string>

namespace tessera {

// Sets the default logger: stderr, "[time] [level] message", at `level`
// ("trace", "debug", "info", "warn", "error"). Unknown levels mean "info".
void InitLogging(const std::string& level);

}  // namespace tessera

#endif  // TESSERA_COMMON_LOGGING_H_
