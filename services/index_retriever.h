// Lets agents (retrieve nodes, the search tool) search the server's own
// collections: agents::Retriever over the retrieval service's indexes.
#ifndef TESSERA_SERVICES_INDEX_RETRIEVER_H_
#define TESSERA_SERVICES_INDEX_RETRIEVER_H_

#include "agents/retriever.h"
#include "ingest/index_feed.h"
#include "retrieval/index_registry.h"

namespace tessera::services {

class IndexRetriever : public agents::Retriever {
 public:
  // Both must outlive the retriever. Searches wait for `feed` to apply every
  // acknowledged write first, as the retrieval service's do.
  IndexRetriever(const retrieval::IndexRegistry* indexes, ingest::IndexFeed* feed)
      : indexes_(indexes), feed_(feed) {}

  // Hybrid search where the collection has a dense index, BM25 otherwise.
  absl::StatusOr<std::vector<agents::RetrievedPassage>> Retrieve(const std::string& tenant,
                                                                 const std::string& collection,
                                                                 const std::string& query,
                                                                 int top_k) override;

 private:
  const retrieval::IndexRegistry* indexes_;
  ingest::IndexFeed* feed_;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_INDEX_RETRIEVER_H_
