// Shared glue between the VectorIndex interface and FAISS (internal to
// retrieval/dense): exception boundary, metric mapping, filter adapter.
#ifndef TESSERA_RETRIEVAL_DENSE_FAISS_UTIL_H_
#define TESSERA_RETRIEVAL_DENSE_FAISS_UTIL_H_

#include <faiss/Index.h>
#include <faiss/MetricType.h>
#include <faiss/impl/IDSelector.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "retrieval/dense/vector_index.h"

namespace tessera::dense {

using FaissId = faiss::Index::idx_t;

// Runs `body`, turning faiss::FaissException, std::bad_alloc and other
// exceptions into a Status (`code` for FAISS errors) that names `what`.
absl::Status CallFaiss(absl::string_view what, absl::StatusCode code,
                       const std::function<void()>& body);

faiss::MetricType ToFaissMetric(Metric metric);

// FAISS reports inner products as is and L2 as a squared distance.
inline float FaissDistanceToScore(Metric metric, float distance) {
  return metric == Metric::kL2 ? -distance : distance;
}

// Lets FAISS test an IdFilter while it scans. With `id_map`, FAISS's
// internal sequential ids are translated to our ids first (IndexIDMap keeps
// that table; FAISS 1.7.3's IndexIDMap itself rejects search parameters).
class IdFilterSelector : public faiss::IDSelector {
 public:
  IdFilterSelector(const IdFilter& filter, const std::vector<FaissId>* id_map)
      : filter_(filter), id_map_(id_map) {}
  bool is_member(FaissId id) const override {
    const FaissId ours = id_map_ == nullptr ? id : (*id_map_)[id];
    return ours >= 0 && filter_.Contains(static_cast<VectorId>(ours));
  }

 private:
  const IdFilter& filter_;
  const std::vector<FaissId>* id_map_;
};

// Converts FAISS's (distance, label) rows to hits, skipping -1 labels (FAISS
// pads with them when fewer than k results exist).
std::vector<SearchHit> CollectFaissHits(Metric metric, const std::vector<float>& distances,
                                        const std::vector<FaissId>& labels);

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_FAISS_UTIL_H_
