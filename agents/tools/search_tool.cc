#include "agents/tools/search_tool.h"

#include "absl/strings/str_cat.h"

namespace tessera::agents {

std::string SearchTool::description() const {
  return absl::StrCat("Searches the '", collection_, "' collection and returns the best passages.");
}

Json SearchTool::parameters_schema() const {
  return Json::parse(R"({
    "type": "object",
    "properties": {
      "query": {"type": "string", "minLength": 1, "maxLength": 2000},
      "top_k": {"type": "integer", "minimum": 1, "maximum": 50}
    },
    "required": ["query"],
    "additionalProperties": false
  })");
}

absl::StatusOr<Json> SearchTool::Invoke(const Json& arguments, absl::Time deadline) {
  auto query = arguments.find("query");
  if (!arguments.is_object() || query == arguments.end() || !query->is_string()) {
    return absl::InvalidArgumentError("search: argument 'query' (a string) is required");
  }
  int top_k = 5;
  if (auto k = arguments.find("top_k"); k != arguments.end()) {
    if (!k->is_number_integer()) return absl::InvalidArgumentError("search: 'top_k' must be an integer");
    top_k = k->get<int>();
  }
  absl::StatusOr<std::vector<RetrievedPassage>> passages =
      retriever_->Retrieve(tenant_, collection_, query->get<std::string>(), top_k);
  if (!passages.ok()) return passages.status();
  return PassagesToJson(*passages);
}

}  // namespace tessera::agents
