#include "services/index_retriever.h"

#include "absl/strings/str_cat.h"

namespace tessera::services {

absl::StatusOr<std::vector<agents::RetrievedPassage>> IndexRetriever::Retrieve(
    const std::string& tenant, const std::string& collection, const std::string& query,
    int top_k) {
  absl::Status current = feed_->WaitUntilCurrent(absl::Seconds(5));
  if (!current.ok()) return current;
  auto index = indexes_->Find(tenant, collection);
  if (index == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("collection \"", collection, "\" has no indexed documents"));
  }
  retrieval::v1::SearchRequest request;
  request.set_collection(collection);
  request.set_query(query);
  request.set_top_k(top_k);
  request.set_include_text(true);
  request.set_mode(index->Stats().dense_vectors > 0 ? retrieval::v1::HYBRID
                                                    : retrieval::v1::BM25);
  auto response = index->Search(request);
  if (!response.ok()) return response.status();
  std::vector<agents::RetrievedPassage> passages;
  for (const auto& hit : response->hits()) {
    agents::RetrievedPassage passage;
    passage.id = hit.chunk_id();
    passage.text = hit.text();
    passage.score = hit.score();
    passage.metadata["document_id"] = hit.document_id();
    passage.metadata["title"] = hit.provenance().title();
    passage.metadata["source_uri"] = hit.provenance().source_uri();
    passages.push_back(std::move(passage));
  }
  return passages;
}

}  // namespace tessera::services
