// The `search` tool: retrieval through the Retriever interface, for ReAct loops.
#ifndef TESSERA_AGENTS_TOOLS_SEARCH_TOOL_H_
#define TESSERA_AGENTS_TOOLS_SEARCH_TOOL_H_

#include <memory>
#include <string>

#include "agents/retriever.h"
#include "agents/tools/tool.h"

namespace tessera::agents {

// Arguments {"query": string, "top_k": 1..50?}; result: a list of passages.
// Searches one collection on behalf of one tenant (tools are per deployment).
class SearchTool : public Tool {
 public:
  // An empty `tenant` searches the calling run's tenant (a server's shared
  // tool); `collection` is searched unless the call names another.
  SearchTool(std::shared_ptr<Retriever> retriever, std::string tenant, std::string collection)
      : retriever_(std::move(retriever)), tenant_(std::move(tenant)), collection_(std::move(collection)) {}

  std::string name() const override { return "search"; }
  std::string description() const override;
  Json parameters_schema() const override;
  std::string result_type() const override { return "array"; }
  absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time deadline) override;
  absl::StatusOr<Json> InvokeForTenant(const std::string& tenant, const Json& arguments,
                                       absl::Time deadline) override;

 private:
  std::shared_ptr<Retriever> retriever_;
  std::string tenant_;
  std::string collection_;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_SEARCH_TOOL_H_
