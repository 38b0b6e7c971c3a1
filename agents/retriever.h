// The agent runtime's view of retrieval. The lead wires the retrieval service
// behind this interface; KeywordRetriever is a small, real in-memory retriever
// (BM25 over lower-cased word tokens) for tests and examples.
#ifndef TESSERA_AGENTS_RETRIEVER_H_
#define TESSERA_AGENTS_RETRIEVER_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json.h"

namespace tessera::agents {

struct RetrievedPassage {
  std::string id;
  std::string text;
  double score = 0;
  Json metadata = Json::object();
};

class Retriever {
 public:
  virtual ~Retriever() = default;
  // Best first, at most `top_k`. The tenant scopes which collections are visible.
  virtual absl::StatusOr<std::vector<RetrievedPassage>> Retrieve(const std::string& tenant,
                                                                 const std::string& collection,
                                                                 const std::string& query, int top_k) = 0;
};

// {"id", "text", "score", "metadata"} per passage, as written to state channels.
Json PassagesToJson(const std::vector<RetrievedPassage>& passages);

// Okapi BM25 (k1 = 1.2, b = 0.75) over documents added per (tenant, collection).
class KeywordRetriever : public Retriever {
 public:
  void Add(const std::string& tenant, const std::string& collection, const std::string& id,
           const std::string& text, Json metadata = Json::object());
  absl::StatusOr<std::vector<RetrievedPassage>> Retrieve(const std::string& tenant,
                                                         const std::string& collection,
                                                         const std::string& query, int top_k) override;

 private:
  struct Doc {
    std::string id;
    std::string text;
    Json metadata;
    std::map<std::string, int> term_counts;
    int length = 0;
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::vector<Doc>> collections_;
};

// Lower-cased runs of ASCII letters/digits (and any non-ASCII bytes).
std::vector<std::string> KeywordTokens(const std::string& text);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_RETRIEVER_H_
