#include "retrieval/dense/faiss_util.h"

#include <faiss/impl/FaissException.h>

#include <exception>
#include <new>

#include "absl/strings/str_cat.h"

namespace tessera::dense {

absl::Status CallFaiss(absl::string_view what, absl::StatusCode code,
                       const std::function<void()>& body) {
  try {
    body();
  } catch (const faiss::FaissException& e) {
    return absl::Status(code, absl::StrCat(what, ": ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
  } catch (const std::exception& e) {
    return absl::Status(code, absl::StrCat(what, ": ", e.what()));
  }
  return absl::OkStatus();
}

faiss::MetricType ToFaissMetric(Metric metric) {
  return metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

std::vector<SearchHit> CollectFaissHits(Metric metric, const std::vector<float>& distances,
                                        const std::vector<FaissId>& labels) {
  std::vector<SearchHit> hits;
  hits.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) continue;
    hits.push_back({static_cast<VectorId>(labels[i]), FaissDistanceToScore(metric, distances[i])});
  }
  return hits;
}

}  // namespace tessera::dense
