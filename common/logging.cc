#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace tessera {

void InitLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("tessera");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str maps unknown names to "off"; fall back to info instead.
  if (parsed == spdlog::level::off && level != "off") parsed = spdlog::level::info;
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace tessera
