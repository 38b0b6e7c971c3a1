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

TEST(ServerConfigTest, ServicesAndShards) {
  auto config = ParseServerConfig(
      R"({"services": ["ingest", "retrieval"], "shard_timeout_ms": 500,
          "retrieval_shards": ["a=127.0.0.1:1|127.0.0.1:2", "127.0.0.1:3"]})",
      ServerConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->services, (std::vector<std::string>{"ingest", "retrieval"}));
  EXPECT_EQ(config->retrieval_shards.size(), 2u);
  EXPECT_EQ(config->shard_timeout_ms, 500);
  auto bad = ParseServerConfig(R"({"services": ["retreival"]})", ServerConfig());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("retreival"), std::string::npos);
  // The message lists what is accepted.
  EXPECT_NE(bad.status().message().find("ingest, retrieval, generation, agents, eval, gateway"),
            std::string::npos)
      << bad.status();
}

TEST(ServerConfigTest, Bm25Segments) {
  auto config =
      ParseServerConfig(R"({"bm25_max_buffered_docs": 64, "bm25_max_segments": 4})", ServerConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->bm25_max_buffered_docs, 64);
  EXPECT_EQ(config->bm25_max_segments, 4);
  EXPECT_EQ(ServerConfig().bm25_max_buffered_docs, 100000);
  auto bad = ParseServerConfig(R"({"bm25_max_segments": 0})", ServerConfig());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bm25_max_segments (0)"), std::string::npos) << bad.status();
}

TEST(ServerConfigTest, RouterSection) {
  EXPECT_EQ(ServerConfig().router.backends.size(), 1u);  // the local engine
  auto config = ParseServerConfig(
      R"({"router": {"backends": [{"name": "vllm", "kind": "openai",
                                   "address": "http://127.0.0.1:8000/v1"}],
                     "routes": [{"name": "chat", "targets": [{"backend": "vllm"}]}],
                     "auth": "required"}})",
      ServerConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->router.routes.size(), 1u);
  EXPECT_EQ(config->router.auth, gateway::AuthMode::kRequired);
  auto bad = ParseServerConfig(R"({"router": {"routes": [{"name": "x", "targets": [{"backend": "nope"}]}]}})",
                               ServerConfig());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("router.routes[0].targets[0]"), std::string::npos)
      << bad.status();
}

TEST(ServerConfigTest, OnlineEvalSection) {
  EXPECT_TRUE(ServerConfig().online_eval.routes.empty());
  auto config = ParseServerConfig(
      R"({"online_eval": {"routes": [{"route": "chat", "sample_rate": 0.1,
                                      "judge": {"kind": "pointwise", "criterion": "helpfulness"}}]}})",
      ServerConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->online_eval.routes.size(), 1u);
  EXPECT_EQ(config->online_eval.routes[0].route, "chat");
  auto bad = ParseServerConfig(R"({"online_eval": {"routes": [{"route": "chat"}]}})", ServerConfig());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServerConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadServerConfig("/nonexistent/tessera.json").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::services
