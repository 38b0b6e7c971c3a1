#include "retrieval/dense/faiss_flat_vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "retrieval/dense/faiss_util.h"
#include "retrieval/dense/index_manifest.h"

namespace tessera::dense {
namespace {

constexpr char kIndexFileName[] = "flat.faiss";

std::unique_ptr<faiss::IndexIDMap2> NewFlatIndex(int dimension, Metric metric) {
  faiss::IndexFlat* flat = metric == Metric::kL2
                               ? static_cast<faiss::IndexFlat*>(new faiss::IndexFlatL2(dimension))
                               : new faiss::IndexFlatIP(dimension);
  auto index = std::make_unique<faiss::IndexIDMap2>(flat);
  index->own_fields = true;
  return index;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FaissFlatVectorIndex>> FaissFlatVectorIndex::Create(
    int dimension, Metric metric) {
  VectorIndexConfig config;
  config.backend = "flat";
  config.dimension = dimension;
  config.metric = metric;
  absl::Status status = ValidateConfig(config);
  if (!status.ok()) return status;
  return std::unique_ptr<FaissFlatVectorIndex>(
      new FaissFlatVectorIndex(dimension, metric, NewFlatIndex(dimension, metric)));
}

FaissFlatVectorIndex::FaissFlatVectorIndex(int dimension, Metric metric,
                                           std::unique_ptr<faiss::IndexIDMap2> index)
    : VectorIndex(dimension, metric), index_(std::move(index)) {}

FaissFlatVectorIndex::~FaissFlatVectorIndex() = default;

absl::Status FaissFlatVectorIndex::AddPrepared(absl::Span<const VectorId> ids,
                                               absl::Span<const float> vectors) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  std::vector<FaissId> faiss_ids(ids.begin(), ids.end());
  std::vector<FaissId> replaced;
  for (FaissId id : faiss_ids) {
    if (index_->rev_map.count(id) > 0) replaced.push_back(id);
  }
  return CallFaiss("FAISS flat add", absl::StatusCode::kInternal, [&] {
    if (!replaced.empty()) {
      index_->remove_ids(faiss::IDSelectorBatch(replaced.size(), replaced.data()));
    }
    index_->add_with_ids(static_cast<FaissId>(ids.size()), vectors.data(), faiss_ids.data());
  });
}

absl::Status FaissFlatVectorIndex::MarkDeleted(VectorId id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  const FaissId faiss_id = static_cast<FaissId>(id);
  if (id > kMaxVectorId || index_->rev_map.count(faiss_id) == 0) {
    return absl::NotFoundError(absl::StrCat("id ", id, " is not in the index"));
  }
  return CallFaiss("FAISS flat remove", absl::StatusCode::kInternal, [&] {
    index_->remove_ids(faiss::IDSelectorArray(1, &faiss_id));
  });
}

absl::StatusOr<std::vector<SearchHit>> FaissFlatVectorIndex::SearchPrepared(
    absl::Span<const float> query, size_t k, const SearchOptions& options) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const size_t count = static_cast<size_t>(index_->ntotal);
  if (count == 0) return std::vector<SearchHit>();
  const size_t wanted = std::min(k, count);
  std::vector<float> distances(wanted);
  std::vector<FaissId> slots(wanted);
  // Search the inner IndexFlat directly so the filter can run during the scan
  // (translated through id_map), then map slots back to our ids.
  std::unique_ptr<IdFilterSelector> selector;
  faiss::SearchParameters params;
  if (options.filter != nullptr) {
    selector = std::make_unique<IdFilterSelector>(*options.filter, &index_->id_map);
    params.sel = selector.get();
  }
  absl::Status status = CallFaiss("FAISS flat search", absl::StatusCode::kInternal, [&] {
    index_->index->search(1, query.data(), static_cast<FaissId>(wanted), distances.data(),
                          slots.data(), options.filter != nullptr ? &params : nullptr);
  });
  if (!status.ok()) return status;
  for (FaissId& slot : slots) {
    if (slot >= 0) slot = index_->id_map[slot];
  }
  std::vector<SearchHit> hits = CollectFaissHits(metric(), distances, slots);
  SortAndTruncateHits(k, &hits);
  return hits;
}

absl::Status FaissFlatVectorIndex::Save(const std::string& dir) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  absl::Status status = EnsureDirectory(dir);
  if (!status.ok()) return status;
  const std::string path = (std::filesystem::path(dir) / kIndexFileName).string();
  const std::string temporary = path + ".tmp";
  status = CallFaiss("FAISS write_index", absl::StatusCode::kInternal,
                     [&] { faiss::write_index(index_.get(), temporary.c_str()); });
  if (!status.ok()) return status;
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return absl::InternalError(absl::StrCat("cannot rename ", temporary));
  IndexManifest manifest;
  manifest.backend = std::string(backend());
  manifest.dimension = dimension();
  manifest.metric = metric();
  manifest.values = {{"count", static_cast<int64_t>(index_->ntotal)}};
  manifest.files = {kIndexFileName};
  return WriteManifest(dir, manifest);
}

absl::Status FaissFlatVectorIndex::Load(const std::string& dir) {
  absl::StatusOr<IndexManifest> manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  absl::Status status = CheckManifestMatches(*manifest, backend(), dimension(), metric());
  if (!status.ok()) return status;
  if (manifest->files != std::vector<std::string>{kIndexFileName}) {
    return absl::DataLossError("flat manifest must list exactly flat.faiss");
  }
  absl::StatusOr<int64_t> count =
      GetManifestValue(*manifest, "count", 0, std::numeric_limits<int64_t>::max());
  if (!count.ok()) return count.status();
  const std::string path = (std::filesystem::path(dir) / kIndexFileName).string();
  std::unique_ptr<faiss::Index> loaded;
  status = CallFaiss("FAISS read_index", absl::StatusCode::kDataLoss,
                     [&] { loaded.reset(faiss::read_index(path.c_str())); });
  if (!status.ok()) return status;
  auto* id_map = dynamic_cast<faiss::IndexIDMap2*>(loaded.get());
  auto* flat = id_map == nullptr ? nullptr : dynamic_cast<faiss::IndexFlat*>(id_map->index);
  if (flat == nullptr || id_map->d != dimension() ||
      id_map->metric_type != ToFaissMetric(metric()) || id_map->ntotal != *count ||
      flat->ntotal != *count || static_cast<int64_t>(id_map->id_map.size()) != *count ||
      static_cast<int64_t>(id_map->rev_map.size()) != *count) {
    return absl::DataLossError(absl::StrCat(path, " is not the flat index its manifest describes"));
  }
  for (FaissId id : id_map->id_map) {
    if (id < 0) return absl::DataLossError(absl::StrCat(path, " holds a negative id"));
  }
  loaded.release();
  std::unique_lock<std::shared_mutex> lock(mutex_);
  index_.reset(id_map);
  return absl::OkStatus();
}

size_t FaissFlatVectorIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return static_cast<size_t>(index_->ntotal);
}

}  // namespace tessera::dense
