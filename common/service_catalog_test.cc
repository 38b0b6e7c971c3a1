#include "common/service_catalog.h"

#include <set>

#include "gtest/gtest.h"

namespace tessera {
namespace {

TEST(ServiceCatalogTest, NamesAreUniqueAndFullNamesVersioned) {
  std::set<std::string> names, full_names;
  for (const ServiceInfo& service : TesseraServices()) {
    EXPECT_TRUE(names.insert(service.name).second) << service.name;
    EXPECT_TRUE(full_names.insert(service.full_name).second) << service.full_name;
    EXPECT_EQ(service.full_name.rfind("tessera." + service.name + ".v1.", 0), 0u)
        << service.full_name;
  }
  EXPECT_EQ(names.size(), 6u);
}

TEST(ServiceCatalogTest, FindsByShortName) {
  const ServiceInfo* retrieval = FindService("retrieval");
  ASSERT_NE(retrieval, nullptr);
  EXPECT_EQ(retrieval->full_name, "tessera.retrieval.v1.RetrievalService");
  EXPECT_TRUE(retrieval->forwardable);
  EXPECT_EQ(FindService("tessera.retrieval.v1.RetrievalService"), nullptr);
  EXPECT_EQ(FindService(""), nullptr);
}

TEST(ServiceCatalogTest, ChecksNamesAndSaysWhatItAccepts) {
  EXPECT_TRUE(CheckServiceNames({"ingest", "gateway"}, "services").ok());
  absl::Status bad = CheckServiceNames({"ingest", "retreival"}, "--services");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "--services: unknown service \"retreival\" (want one of ingest, retrieval, "
            "generation, agents, eval, gateway)");
}

TEST(ServiceCatalogTest, TheRoutersOwnServicesAreNotForwardable) {
  EXPECT_EQ(ServiceNames(), (std::vector<std::string>{"ingest", "retrieval", "generation",
                                                      "agents", "eval", "gateway"}));
  EXPECT_EQ(ForwardableServiceNames(),
            (std::vector<std::string>{"ingest", "retrieval", "agents", "eval"}));
}

}  // namespace
}  // namespace tessera
