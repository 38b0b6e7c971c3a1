// Job specifications: the JobSpec message from a job file's JSON or YAML text
// (field names as in eval.proto, snake_case or lowerCamelCase; enum values by
// name, case-insensitive: kind: g_eval, metrics: [faithfulness]), and checks.
#ifndef TESSERA_EVAL_JOB_SPEC_H_
#define TESSERA_EVAL_JOB_SPEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

// JSON or YAML (common/yaml.h).
// InvalidArgument naming the field or line.
absl::StatusOr<v1::JobSpec> ParseJobSpec(absl::string_view text);

// Limits, judge kinds and names, metrics, target. Models and the dataset are
// checked where they are resolved.
absl::Status ValidateJobSpec(const v1::JobSpec& spec);

// "faithfulness", "ndcg@10", ... (keys of CaseResult.metrics and Job.summary).
std::string MetricName(v1::Metric metric);
bool IsRetrievalMetric(v1::Metric metric);

inline constexpr int kMaxConcurrency = 64;

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_JOB_SPEC_H_
