#include "retrieval/dense/faiss_ivfpq_vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>
#include <faiss/invlists/DirectMap.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "retrieval/dense/faiss_util.h"
#include "retrieval/dense/index_manifest.h"

namespace tessera::dense {
namespace {

constexpr char kIndexFileName[] = "ivfpq.faiss";
constexpr char kPendingFileName[] = "pending.bin";

std::string PathIn(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FaissIvfPqVectorIndex>> FaissIvfPqVectorIndex::Create(
    int dimension, Metric metric, const IvfPqParams& params) {
  VectorIndexConfig config;
  config.backend = "ivfpq";
  config.dimension = dimension;
  config.metric = metric;
  config.ivfpq = params;
  absl::Status status = ValidateConfig(config);
  if (!status.ok()) return status;
  return std::unique_ptr<FaissIvfPqVectorIndex>(
      new FaissIvfPqVectorIndex(dimension, metric, params));
}

FaissIvfPqVectorIndex::FaissIvfPqVectorIndex(int dimension, Metric metric,
                                             const IvfPqParams& params)
    : VectorIndex(dimension, metric),
      params_(params),
      train_size_(params.train_size > 0
                      ? params.train_size
                      : 39 * std::max<size_t>(params.nlist, size_t{1} << params.nbits)) {}

FaissIvfPqVectorIndex::~FaissIvfPqVectorIndex() = default;

bool FaissIvfPqVectorIndex::trained() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return index_ != nullptr;
}

size_t FaissIvfPqVectorIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return index_ != nullptr ? indexed_ids_.size() : pending_ids_.size();
}

void FaissIvfPqVectorIndex::RemovePending(VectorId id) {
  auto it = pending_rows_.find(id);
  if (it == pending_rows_.end()) return;
  const size_t row = it->second;
  const size_t last = pending_ids_.size() - 1;
  const size_t d = dimension();
  if (row != last) {
    pending_ids_[row] = pending_ids_[last];
    std::memcpy(&pending_vectors_[row * d], &pending_vectors_[last * d], d * sizeof(float));
    pending_rows_[pending_ids_[row]] = row;
  }
  pending_ids_.pop_back();
  pending_vectors_.resize(last * d);
  pending_rows_.erase(id);
}

absl::Status FaissIvfPqVectorIndex::AddPrepared(absl::Span<const VectorId> ids,
                                                absl::Span<const float> vectors) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  const size_t d = dimension();
  if (index_ == nullptr) {
    for (size_t row = 0; row < ids.size(); ++row) {
      RemovePending(ids[row]);  // Upsert.
      pending_rows_[ids[row]] = pending_ids_.size();
      pending_ids_.push_back(ids[row]);
      pending_vectors_.insert(pending_vectors_.end(), vectors.begin() + row * d,
                              vectors.begin() + (row + 1) * d);
    }
    if (pending_ids_.size() < train_size_) return absl::OkStatus();
    return TrainFromPending();
  }
  std::vector<FaissId> faiss_ids(ids.begin(), ids.end());
  std::vector<FaissId> replaced;
  for (VectorId id : ids) {
    if (indexed_ids_.contains(id)) replaced.push_back(static_cast<FaissId>(id));
  }
  absl::Status status = CallFaiss("FAISS IVF-PQ add", absl::StatusCode::kInternal, [&] {
    if (!replaced.empty()) {
      // The hash-table direct map removes by id without scanning the lists.
      index_->remove_ids(faiss::IDSelectorArray(replaced.size(), replaced.data()));
    }
    index_->add_with_ids(static_cast<FaissId>(ids.size()), vectors.data(), faiss_ids.data());
  });
  if (!status.ok()) return status;
  indexed_ids_.insert(ids.begin(), ids.end());
  return absl::OkStatus();
}

absl::Status FaissIvfPqVectorIndex::TrainFromPending() {
  const int d = dimension();
  std::unique_ptr<faiss::IndexIVFPQ> index;
  std::vector<FaissId> faiss_ids(pending_ids_.begin(), pending_ids_.end());
  absl::Status status = CallFaiss("FAISS IVF-PQ training", absl::StatusCode::kInternal, [&] {
    faiss::IndexFlat* quantizer =
        metric() == Metric::kL2 ? static_cast<faiss::IndexFlat*>(new faiss::IndexFlatL2(d))
                                : new faiss::IndexFlatIP(d);
    index = std::make_unique<faiss::IndexIVFPQ>(quantizer, d, params_.nlist, params_.m,
                                                params_.nbits, ToFaissMetric(metric()));
    index->own_fields = true;
    index->cp.seed = 1234;  // Reproducible clustering.
    index->pq.cp.seed = 1234;
    index->set_direct_map_type(faiss::DirectMap::Hashtable);
    const FaissId n = static_cast<FaissId>(pending_ids_.size());
    index->train(n, pending_vectors_.data());
    index->add_with_ids(n, pending_vectors_.data(), faiss_ids.data());
  });
  if (!status.ok()) return status;
  index_ = std::move(index);
  indexed_ids_.insert(pending_ids_.begin(), pending_ids_.end());
  pending_ids_.clear();
  pending_ids_.shrink_to_fit();
  pending_vectors_.clear();
  pending_vectors_.shrink_to_fit();
  pending_rows_.clear();
  return absl::OkStatus();
}

absl::Status FaissIvfPqVectorIndex::MarkDeleted(VectorId id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (index_ == nullptr) {
    if (!pending_rows_.contains(id)) {
      return absl::NotFoundError(absl::StrCat("id ", id, " is not in the index"));
    }
    RemovePending(id);
    return absl::OkStatus();
  }
  if (!indexed_ids_.contains(id)) {
    return absl::NotFoundError(absl::StrCat("id ", id, " is not in the index"));
  }
  const FaissId faiss_id = static_cast<FaissId>(id);
  absl::Status status = CallFaiss("FAISS IVF-PQ remove", absl::StatusCode::kInternal, [&] {
    index_->remove_ids(faiss::IDSelectorArray(1, &faiss_id));
  });
  if (!status.ok()) return status;
  indexed_ids_.erase(id);
  return absl::OkStatus();
}

std::vector<SearchHit> FaissIvfPqVectorIndex::SearchPending(absl::Span<const float> query,
                                                            size_t k,
                                                            const IdFilter* filter) const {
  const size_t d = dimension();
  std::vector<SearchHit> hits;
  for (size_t row = 0; row < pending_ids_.size(); ++row) {
    if (filter != nullptr && !filter->Contains(pending_ids_[row])) continue;
    const float* vector = &pending_vectors_[row * d];
    const float distance = metric() == Metric::kL2
                               ? faiss::fvec_L2sqr(query.data(), vector, d)
                               : faiss::fvec_inner_product(query.data(), vector, d);
    hits.push_back({pending_ids_[row], FaissDistanceToScore(metric(), distance)});
  }
  SortAndTruncateHits(k, &hits);
  return hits;
}

absl::StatusOr<std::vector<SearchHit>> FaissIvfPqVectorIndex::SearchPrepared(
    absl::Span<const float> query, size_t k, const SearchOptions& options) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  if (index_ == nullptr) return SearchPending(query, k, options.filter);
  const size_t count = indexed_ids_.size();
  if (count == 0) return std::vector<SearchHit>();
  const size_t wanted = std::min(k, count);
  const size_t nlist = index_->nlist;
  size_t nprobe = std::min<size_t>(options.nprobe > 0 ? options.nprobe : params_.nprobe, nlist);
  std::unique_ptr<IdFilterSelector> selector;
  if (options.filter != nullptr) {
    selector = std::make_unique<IdFilterSelector>(*options.filter, nullptr);
  }
  // With a filter the number of passing ids is unknown, so only k (or a full
  // scan) ends the widening.
  const size_t target = options.filter != nullptr ? k : wanted;
  std::vector<float> distances(wanted);
  std::vector<FaissId> labels(wanted);
  std::vector<SearchHit> hits;
  for (;;) {
    faiss::SearchParametersIVF params;
    params.nprobe = nprobe;
    params.sel = selector.get();
    absl::Status status = CallFaiss("FAISS IVF-PQ search", absl::StatusCode::kInternal, [&] {
      index_->search(1, query.data(), static_cast<FaissId>(wanted), distances.data(),
                     labels.data(), &params);
    });
    if (!status.ok()) return status;
    hits = CollectFaissHits(metric(), distances, labels);
    if (hits.size() >= target || nprobe >= nlist) break;
    nprobe = std::min(nlist, 2 * nprobe);
  }
  SortAndTruncateHits(k, &hits);
  return hits;
}

absl::Status FaissIvfPqVectorIndex::Save(const std::string& dir) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  absl::Status status = EnsureDirectory(dir);
  if (!status.ok()) return status;
  IndexManifest manifest;
  manifest.backend = std::string(backend());
  manifest.dimension = dimension();
  manifest.metric = metric();
  manifest.values = {{"ivfpq.nlist", params_.nlist},
                     {"ivfpq.m", params_.m},
                     {"ivfpq.nbits", params_.nbits},
                     {"ivfpq.nprobe", params_.nprobe},
                     {"ivfpq.train_size", static_cast<int64_t>(train_size_)},
                     {"trained", index_ != nullptr ? 1 : 0}};
  if (index_ != nullptr) {
    const std::string path = PathIn(dir, kIndexFileName);
    const std::string temporary = path + ".tmp";
    status = CallFaiss("FAISS write_index", absl::StatusCode::kInternal,
                       [&] { faiss::write_index(index_.get(), temporary.c_str()); });
    if (!status.ok()) return status;
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) return absl::InternalError(absl::StrCat("cannot rename ", temporary));
    manifest.values["count"] = static_cast<int64_t>(indexed_ids_.size());
    manifest.files = {kIndexFileName};
  } else {
    // Raw little-endian rows: all ids (uint64), then all vectors (float).
    std::string contents;
    contents.append(reinterpret_cast<const char*>(pending_ids_.data()),
                    pending_ids_.size() * sizeof(VectorId));
    contents.append(reinterpret_cast<const char*>(pending_vectors_.data()),
                    pending_vectors_.size() * sizeof(float));
    status = WriteFileAtomically(PathIn(dir, kPendingFileName), contents);
    if (!status.ok()) return status;
    manifest.values["count"] = static_cast<int64_t>(pending_ids_.size());
    manifest.files = {kPendingFileName};
  }
  return WriteManifest(dir, manifest);
}

absl::Status FaissIvfPqVectorIndex::Load(const std::string& dir) {
  absl::StatusOr<IndexManifest> manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  absl::Status status = CheckManifestMatches(*manifest, backend(), dimension(), metric());
  if (!status.ok()) return status;
  IvfPqParams params;
  absl::StatusOr<int64_t> nlist = GetManifestValue(*manifest, "ivfpq.nlist", 1, 1 << 24);
  absl::StatusOr<int64_t> m = GetManifestValue(*manifest, "ivfpq.m", 1, dimension());
  absl::StatusOr<int64_t> nbits = GetManifestValue(*manifest, "ivfpq.nbits", 1, 16);
  absl::StatusOr<int64_t> nprobe = GetManifestValue(*manifest, "ivfpq.nprobe", 1, 1 << 24);
  absl::StatusOr<int64_t> train_size =
      GetManifestValue(*manifest, "ivfpq.train_size", 1, std::numeric_limits<int64_t>::max());
  absl::StatusOr<int64_t> trained = GetManifestValue(*manifest, "trained", 0, 1);
  absl::StatusOr<int64_t> count =
      GetManifestValue(*manifest, "count", 0, std::numeric_limits<int32_t>::max());
  for (const auto* value : {&nlist, &m, &nbits, &nprobe, &train_size, &trained, &count}) {
    if (!value->ok()) return value->status();
  }
  params.nlist = static_cast<int>(*nlist);
  params.m = static_cast<int>(*m);
  params.nbits = static_cast<int>(*nbits);
  params.nprobe = static_cast<int>(*nprobe);
  params.train_size = static_cast<size_t>(*train_size);
  const size_t d = dimension();
  const size_t n = static_cast<size_t>(*count);

  std::unique_ptr<faiss::IndexIVFPQ> index;
  absl::flat_hash_set<VectorId> indexed_ids;
  std::vector<VectorId> pending_ids;
  std::vector<float> pending_vectors;
  absl::flat_hash_map<VectorId, size_t> pending_rows;
  if (*trained == 1) {
    if (manifest->files != std::vector<std::string>{kIndexFileName}) {
      return absl::DataLossError("trained IVF-PQ manifest must list exactly ivfpq.faiss");
    }
    const std::string path = PathIn(dir, kIndexFileName);
    std::unique_ptr<faiss::Index> loaded;
    status = CallFaiss("FAISS read_index", absl::StatusCode::kDataLoss,
                       [&] { loaded.reset(faiss::read_index(path.c_str())); });
    if (!status.ok()) return status;
    auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(loaded.get());
    if (ivfpq == nullptr || ivfpq->d != dimension() ||
        ivfpq->metric_type != ToFaissMetric(metric()) || !ivfpq->is_trained ||
        ivfpq->nlist != static_cast<size_t>(params.nlist) ||
        ivfpq->pq.M != static_cast<size_t>(params.m) ||
        ivfpq->pq.nbits != static_cast<size_t>(params.nbits) ||
        ivfpq->ntotal != static_cast<FaissId>(n) ||
        ivfpq->direct_map.type != faiss::DirectMap::Hashtable) {
      return absl::DataLossError(
          absl::StrCat(path, " is not the IVF-PQ index its manifest describes"));
    }
    loaded.release();
    index.reset(ivfpq);
    for (size_t list = 0; list < index->nlist; ++list) {
      faiss::InvertedLists::ScopedIds ids(index->invlists, list);
      const size_t list_size = index->invlists->list_size(list);
      for (size_t i = 0; i < list_size; ++i) {
        if (ids[i] < 0 || !indexed_ids.insert(static_cast<VectorId>(ids[i])).second) {
          return absl::DataLossError(absl::StrCat(path, " holds a negative or repeated id"));
        }
      }
    }
    if (indexed_ids.size() != n) return absl::DataLossError("IVF-PQ id count mismatch");
  } else {
    if (manifest->files != std::vector<std::string>{kPendingFileName}) {
      return absl::DataLossError("untrained IVF-PQ manifest must list exactly pending.bin");
    }
    absl::StatusOr<std::string> contents = ReadFileToString(PathIn(dir, kPendingFileName));
    if (!contents.ok()) return contents.status();
    if (contents->size() != n * (sizeof(VectorId) + d * sizeof(float))) {
      return absl::DataLossError("pending.bin size does not match its manifest");
    }
    pending_ids.resize(n);
    pending_vectors.resize(n * d);
    std::memcpy(pending_ids.data(), contents->data(), n * sizeof(VectorId));
    std::memcpy(pending_vectors.data(), contents->data() + n * sizeof(VectorId),
                n * d * sizeof(float));
    for (size_t row = 0; row < n; ++row) {
      if (pending_ids[row] > kMaxVectorId || !pending_rows.emplace(pending_ids[row], row).second) {
        return absl::DataLossError("pending.bin holds an invalid or repeated id");
      }
    }
  }
  std::unique_lock<std::shared_mutex> lock(mutex_);
  params_ = params;
  train_size_ = params.train_size;
  index_ = std::move(index);
  indexed_ids_ = std::move(indexed_ids);
  pending_ids_ = std::move(pending_ids);
  pending_vectors_ = std::move(pending_vectors);
  pending_rows_ = std::move(pending_rows);
  return absl::OkStatus();
}

}  // namespace tessera::dense
