#include "retrieval/index_registry.h"

namespace tessera::retrieval {

absl::StatusOr<std::shared_ptr<CollectionIndex>> IndexRegistry::GetOrCreate(const Key& key) {
  absl::MutexLock lock(&mu_);
  auto it = indexes_.find(key);
  if (it != indexes_.end()) return it->second;
  auto created = CollectionIndex::Create(options_, embedder_, reranker_);
  if (!created.ok()) return created.status();
  std::shared_ptr<CollectionIndex> index = std::move(*created);
  indexes_[key] = index;
  return index;
}

absl::Status IndexRegistry::Apply(const ingest::IndexUpdate& update) {
  const Key key{update.entry.tenant, update.entry.collection};
  switch (update.entry.op) {
    case ingest::LogEntry::Op::kPut: {
      auto index = GetOrCreate(key);
      if (!index.ok()) return index.status();
      return (*index)->ReplaceDocument(*update.document, update.chunks);
    }
    case ingest::LogEntry::Op::kDelete: {
      std::shared_ptr<CollectionIndex> index;
      {
        absl::MutexLock lock(&mu_);
        auto it = indexes_.find(key);
        if (it == indexes_.end()) return absl::OkStatus();
        index = it->second;
      }
      return index->RemoveDocument(update.entry.document_id);
    }
    case ingest::LogEntry::Op::kDeleteCollection:
      Drop(key.first, key.second);
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

std::shared_ptr<const CollectionIndex> IndexRegistry::Find(const std::string& tenant,
                                                           const std::string& collection) const {
  absl::MutexLock lock(&mu_);
  auto it = indexes_.find({tenant, collection});
  return it == indexes_.end() ? nullptr : it->second;
}

void IndexRegistry::Reset() {
  absl::MutexLock lock(&mu_);
  indexes_.clear();
}

void IndexRegistry::Drop(const std::string& tenant, const std::string& collection) {
  absl::MutexLock lock(&mu_);
  indexes_.erase({tenant, collection});
}

}  // namespace tessera::retrieval
