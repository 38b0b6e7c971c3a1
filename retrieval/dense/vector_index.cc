#include "retrieval/dense/vector_index.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace tessera::dense {

absl::string_view MetricName(Metric metric) {
  switch (metric) {
    case Metric::kInnerProduct:
      return "ip";
    case Metric::kCosine:
      return "cosine";
    case Metric::kL2:
      return "l2";
  }
  return "unknown";
}

absl::StatusOr<Metric> ParseMetric(absl::string_view name) {
  if (name == "ip") return Metric::kInnerProduct;
  if (name == "cosine") return Metric::kCosine;
  if (name == "l2") return Metric::kL2;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown metric '", name, "' (expected ip, cosine or l2)"));
}

absl::Status ValidateConfig(const VectorIndexConfig& config) {
  // 65536 keeps row sizes far below anything that could overflow size_t math.
  if (config.dimension <= 0 || config.dimension > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("dimension must be in [1, 65536], got ", config.dimension));
  }
  if (config.backend == "hnsw") {
    const HnswParams& p = config.hnsw;
    // hnswlib keeps the bottom-layer degree (2*m) in 16 bits.
    if (p.m < 2 || p.m > 1024) {
      return absl::InvalidArgumentError(
          absl::StrCat("hnsw.m must be in [2, 1024], got ", p.m));
    }
    if (p.ef_construction < 1 || p.ef_search < 1) {
      return absl::InvalidArgumentError(
          "hnsw.ef_construction and hnsw.ef_search must be >= 1");
    }
    if (p.initial_capacity < 1) {
      return absl::InvalidArgumentError("hnsw.initial_capacity must be >= 1");
    }
    return absl::OkStatus();
  }
  if (config.backend == "flat") return absl::OkStatus();
  if (config.backend == "ivfpq") {
    const IvfPqParams& p = config.ivfpq;
    if (p.nlist < 1 || p.nprobe < 1) {
      return absl::InvalidArgumentError("ivfpq.nlist and ivfpq.nprobe must be >= 1");
    }
    if (p.m < 1 || config.dimension % p.m != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ivfpq.m (", p.m, ") must be >= 1 and divide the dimension (",
          config.dimension, ")"));
    }
    if (p.nbits < 1 || p.nbits > 16) {
      return absl::InvalidArgumentError(
          absl::StrCat("ivfpq.nbits must be in [1, 16], got ", p.nbits));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown backend '", config.backend, "' (expected hnsw, flat or ivfpq)"));
}

absl::Status VectorIndex::PrepareVector(absl::Span<const float> vector,
                                        const VectorId* id, float* out) const {
  // Built lazily: only error paths need the description.
  auto what = [id]() {
    return id == nullptr ? std::string("query")
                         : absl::StrCat("vector for id ", *id);
  };
  if (vector.size() != static_cast<size_t>(dimension_)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what(), " has dimension ", vector.size(),
                     ", index dimension is ", dimension_));
  }
  double norm_squared = 0;
  for (float value : vector) {
    if (!std::isfinite(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what(), " contains a NaN or infinite value"));
    }
    norm_squared += static_cast<double>(value) * value;
  }
  if (metric_ != Metric::kCosine) {
    std::copy(vector.begin(), vector.end(), out);
    return absl::OkStatus();
  }
  if (!(norm_squared > 0) || !std::isfinite(norm_squared)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what(), " has zero norm; cosine similarity is undefined"));
  }
  const double inverse_norm = 1.0 / std::sqrt(norm_squared);
  for (size_t i = 0; i < vector.size(); ++i) {
    out[i] = static_cast<float>(vector[i] * inverse_norm);
  }
  return absl::OkStatus();
}

absl::Status VectorIndex::Add(VectorId id, absl::Span<const float> vector) {
  return AddBatch(absl::MakeConstSpan(&id, 1), vector);
}

absl::Status VectorIndex::AddBatch(absl::Span<const VectorId> ids,
                                   absl::Span<const float> vectors) {
  if (ids.empty()) {
    if (!vectors.empty()) {
      return absl::InvalidArgumentError("vectors given without ids");
    }
    return absl::OkStatus();
  }
  if (vectors.size() != ids.size() * static_cast<size_t>(dimension_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", ids.size(), " vectors of dimension ", dimension_, " (",
        ids.size() * dimension_, " floats), got ", vectors.size(), " floats"));
  }
  if (ids.size() > 1) {
    absl::flat_hash_set<VectorId> seen;
    seen.reserve(ids.size());
    for (VectorId id : ids) {
      if (!seen.insert(id).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("id ", id, " appears twice in one batch"));
      }
    }
  }
  std::vector<float> prepared(vectors.size());
  for (size_t row = 0; row < ids.size(); ++row) {
    if (ids[row] > kMaxVectorId) {
      return absl::InvalidArgumentError(
          absl::StrCat("id ", ids[row], " exceeds the maximum ", kMaxVectorId));
    }
    absl::Status status = PrepareVector(
        vectors.subspan(row * dimension_, dimension_), &ids[row],
        prepared.data() + row * dimension_);
    if (!status.ok()) return status;
  }
  return AddPrepared(ids, prepared);
}

absl::StatusOr<std::vector<SearchHit>> VectorIndex::Search(
    absl::Span<const float> query, size_t k,
    const SearchOptions& options) const {
  if (options.ef_search < 0 || options.nprobe < 0) {
    return absl::InvalidArgumentError("ef_search and nprobe must be >= 0");
  }
  if (k == 0) return std::vector<SearchHit>();
  std::vector<float> prepared(dimension_);
  absl::Status status = PrepareVector(query, nullptr, prepared.data());
  if (!status.ok()) return status;
  return SearchPrepared(prepared, k, options);
}

void SortAndTruncateHits(size_t k, std::vector<SearchHit>* hits) {
  auto better = [](const SearchHit& a, const SearchHit& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.id < b.id;
  };
  if (hits->size() > k) {
    std::partial_sort(hits->begin(), hits->begin() + k, hits->end(), better);
    hits->resize(k);
  } else {
    std::sort(hits->begin(), hits->end(), better);
  }
}

}  // namespace tessera::dense
