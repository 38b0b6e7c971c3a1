#include "eval/job_spec.h"

#include <google/protobuf/util/json_util.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "eval/judges.h"
#include "common/yaml.h"

namespace tessera::eval {
namespace {

// An enum value written loosely ("g-eval", "faithfulness", "ndcg@10") as the
// exact name the proto JSON parser wants; unknown names are left for it to reject.
std::string EnumName(const google::protobuf::EnumDescriptor* type, std::string text,
                     const std::function<std::string(int)>& alias) {
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* value = type->value(i);
    std::string loose = absl::AsciiStrToUpper(text);
    for (char& c : loose) {
      if (c == '-' || c == ' ') c = '_';
    }
    if (loose == value->name() || (alias && text == alias(value->number()))) return value->name();
    if (loose == "GEVAL" && value->name() == "G_EVAL") return value->name();
  }
  return text;
}

void NormaliseEnums(Json* spec) {
  if (!spec->is_object()) return;
  if (auto judges = spec->find("judges"); judges != spec->end() && judges->is_array()) {
    for (Json& judge : *judges) {
      if (judge.is_object() && judge.contains("kind") && judge["kind"].is_string()) {
        judge["kind"] = EnumName(v1::Judge::Kind_descriptor(), judge["kind"].get<std::string>(), {});
      }
    }
  }
  if (auto metrics = spec->find("metrics"); metrics != spec->end() && metrics->is_array()) {
    for (Json& metric : *metrics) {
      if (!metric.is_string()) continue;
      metric = EnumName(v1::Metric_descriptor(), metric.get<std::string>(),
                        [](int number) { return MetricName(static_cast<v1::Metric>(number)); });
    }
  }
}

}  // namespace

std::string MetricName(v1::Metric metric) {
  switch (metric) {
    case v1::FAITHFULNESS:
      return "faithfulness";
    case v1::ANSWER_RELEVANCE:
      return "answer_relevance";
    case v1::CONTEXT_PRECISION:
      return "context_precision";
    case v1::CONTEXT_RECALL:
      return "context_recall";
    case v1::NDCG_AT_10:
      return "ndcg@10";
    case v1::RECALL_AT_100:
      return "recall@100";
    case v1::MRR:
      return "mrr@10";
    case v1::MAP:
      return "map";
    default:
      return "unspecified";
  }
}

bool IsRetrievalMetric(v1::Metric metric) {
  return metric == v1::NDCG_AT_10 || metric == v1::RECALL_AT_100 || metric == v1::MRR ||
         metric == v1::MAP;
}

absl::StatusOr<v1::JobSpec> ParseJobSpec(absl::string_view text) {
  absl::StatusOr<Json> json = ParseJsonOrYaml(text, "job spec");
  if (!json.ok()) return json.status();
  if (!json->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a job spec is an object, not ", JsonTypeName(*json)));
  }
  NormaliseEnums(&*json);
  v1::JobSpec spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string dumped = DumpJson(*json);
  auto status = google::protobuf::util::JsonStringToMessage(dumped, &spec, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("job spec: ", std::string(status.message())));
  }
  return spec;
}

absl::Status ValidateJobSpec(const v1::JobSpec& spec) {
  if (spec.concurrency() < 0 || spec.concurrency() > kMaxConcurrency) {
    return absl::InvalidArgumentError(
        absl::StrCat("concurrency must be in [0, ", kMaxConcurrency, "] (0 = 1)"));
  }
  if (spec.requests_per_minute() < 0) {
    return absl::InvalidArgumentError("requests_per_minute must be >= 0 (0 = unlimited)");
  }
  if (spec.disagreement_threshold() < 0) {
    return absl::InvalidArgumentError("disagreement_threshold must be >= 0 (0 = no review queue)");
  }
  if (spec.judges_size() == 0 && spec.metrics_size() == 0) {
    return absl::InvalidArgumentError("a job needs at least one judge or metric");
  }
  std::set<std::string> names;
  for (int i = 0; i < spec.judges_size(); ++i) {
    const v1::Judge& judge = spec.judges(i);
    if (judge.kind() == v1::Judge::KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("judges[", i, "].kind must be POINTWISE, PAIRWISE or G_EVAL"));
    }
    if (!names.insert(JudgeName(judge)).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "judges[", i, "]: two judges are named \"", JudgeName(judge), "\" (set name)"));
    }
  }
  std::set<int> metrics;
  for (int i = 0; i < spec.metrics_size(); ++i) {
    if (spec.metrics(i) == v1::METRIC_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("metrics[", i, "] is unspecified"));
    }
    if (!metrics.insert(spec.metrics(i)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics[", i, "]: ", MetricName(spec.metrics(i)), " is listed twice"));
    }
  }
  if (spec.target().kind_case() == v1::Target::kGraphId && spec.target().graph_id().empty()) {
    return absl::InvalidArgumentError("target.graph_id: name the agent graph");
  }
  if (spec.target().has_rag()) {
    if (spec.target().rag().collection().empty()) {
      return absl::InvalidArgumentError("target.rag.collection is required");
    }
    if (spec.target().rag().top_k() < 0 || spec.target().rag().top_k() > 100) {
      return absl::InvalidArgumentError("target.rag.top_k must be in [0, 100] (0 = 5)");
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::eval
