#include "agents/tools/search_tool.h"

#include "absl/strings/str_cat.h"

namespace tessera::agents {

std::string SearchTool::description() const {
  return absl::StrCat("Searches a collection ('", collection_,
                      "' unless `collection` names another) and returns the best passages.");
}

Json SearchTool::parameters_schema() const {
  return Json::parse(R"({
    "type": "object",
    "properties": {
      "query": {"type": "string", "minLength": 1, "maxLength": 2000},
      "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
      "collection": {"type": "string", "minLength": 1, "maxLength": 200}
    },
    "required": ["query"],
    "additionalProperties": false
  })");
}

absl::StatusOr<Json> SearchTool::Invoke(const Json& arguments, absl::Time deadline) {
  return InvokeForTenant(tenant_, arguments, deadline);
}

absl::StatusOr<Json> SearchTool::InvokeForTenant(const std::string& tenant, const Json& arguments,
                                                 absl::Time deadline) {
  auto query = arguments.find("query");
  if (!arguments.is_object() || query == arguments.end() || !query->is_string()) {
    return absl::InvalidArgumentError("search: argument 'query' (a string) is required");
  }
  int top_k = 5;
  if (auto k = arguments.find("top_k"); k != arguments.end()) {
    if (!k->is_number_integer()) return absl::InvalidArgumentError("search: 'top_k' must be an integer");
    top_k = k->get<int>();
  }
  std::string collection = collection_;
  if (auto named = arguments.find("collection"); named != arguments.end()) {
    if (!named->is_string()) return absl::InvalidArgumentError("search: 'collection' must be a string");
    collection = named->get<std::string>();
  }
  // A tool bound to a tenant stays in it; a shared one searches the caller's.
  const std::string& owner = tenant_.empty() ? tenant : tenant_;
  absl::StatusOr<std::vector<RetrievedPassage>> passages =
      retriever_->Retrieve(owner, collection, query->get<std::string>(), top_k);
  if (!passages.ok()) return passages.status();
  return PassagesToJson(*passages);
}

}  // namespace tessera::agents
