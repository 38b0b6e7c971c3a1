// The search indexes of every (tenant, collection), kept current from the ingest
// log: an ingest::Indexer that applies each committed put/delete.
//
// The indexes live in memory and are rebuilt from the SQLite source of truth
// when the server starts (Reset() then IndexFeed::CatchUp()).
#ifndef TESSERA_RETRIEVAL_INDEX_REGISTRY_H_
#define TESSERA_RETRIEVAL_INDEX_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ingest/index_feed.h"
#include "retrieval/collection_index.h"

namespace tessera::retrieval {

class IndexRegistry : public ingest::Indexer {
 public:
  // `embedder`/`reranker` may be null; they must outlive the registry.
  IndexRegistry(CollectionIndexOptions options, const Embedder* embedder,
                const Reranker* reranker)
      : options_(std::move(options)), embedder_(embedder), reranker_(reranker) {}

  std::string name() const override { return "retrieval"; }
  absl::Status Apply(const ingest::IndexUpdate& update) override;

  // The index of a collection, or null when it has never had a document.
  std::shared_ptr<const CollectionIndex> Find(const std::string& tenant,
                                              const std::string& collection) const;
  // Drops every index (before a rebuild from the log).
  void Reset();
  // Drops one collection's index.
  void Drop(const std::string& tenant, const std::string& collection);

 private:
  using Key = std::pair<std::string, std::string>;
  absl::StatusOr<std::shared_ptr<CollectionIndex>> GetOrCreate(const Key& key);

  const CollectionIndexOptions options_;
  const Embedder* const embedder_;
  const Reranker* const reranker_;
  mutable absl::Mutex mu_;
  std::map<Key, std::shared_ptr<CollectionIndex>> indexes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_INDEX_REGISTRY_H_
