#include "services/server_config.h"

#include "gtest/gtest.h"

namespace tessera::services {
namespace {

TEST(ServerConfigTest, ParsesKnownKeysOverDefaults) {
  auto config = ParseServerConfig(
      R"({"port": 7000, "data_dir": "/var/lib/tessera", "log_level": "debug",
          // comments are allowed
          "max_document_bytes": 1024})",
      ServerConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->port, 7000);
  EXPECT_EQ(config->data_dir, "/var/lib/tessera");
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->max_document_bytes, 1024);
  EXPECT_EQ(config->host, "0.0.0.0");  // default kept
}

TEST(ServerConfigTest, RejectsUnknownKeysBadTypesAndBadJson) {
  EXPECT_NE(ParseServerConfig(R"({"prot": 1})", ServerConfig()).status().message().find("prot"),
            std::string::npos);
  EXPECT_FALSE(ParseServerConfig(R"({"port": "x"})", ServerConfig()).ok());
  EXPECT_FALSE(ParseServerConfig(R"({"port": 70000})", ServerConfig()).ok());
  EXPECT_FALSE(ParseServerConfig("{not json", ServerConfig()).ok());
  EXPECT_FALSE(ParseServerConfig("[1,2]", ServerConfig()).ok());
}

TEST(ServerConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadServerConfig("/nonexistent/tessera.json").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::services
