#include "eval/dataset.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/hash.h"
#include "common/json.h"
#include "retrieval/beir.h"

namespace tessera::eval {
namespace {

absl::Status LineError(absl::string_view what, int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(what, ":", line, ": ", message));
}

// A text field: strings as they are, numbers (ids) in decimal; other types are errors.
absl::StatusOr<std::string> TextField(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return DumpJson(*it);
  return absl::InvalidArgumentError(
      absl::StrCat("\"", key, "\" must be a string, not ", JsonTypeName(*it)));
}

absl::StatusOr<v1::EvalCase> CaseFromJson(const Json& object) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, not ", JsonTypeName(object)));
  }
  v1::EvalCase out;
  for (const char* key : {"id", "_id"}) {
    auto id = TextField(object, key);
    if (!id.ok()) return id.status();
    if (!id->empty()) {
      out.set_id(*id);
      break;
    }
  }
  for (const char* key : {"input", "question", "query", "text"}) {
    auto input = TextField(object, key);
    if (!input.ok()) return input.status();
    if (!input->empty()) {
      out.set_input(*input);
      break;
    }
  }
  struct Field {
    const char* key;
    void (v1::EvalCase::*set)(const std::string&);
  };
  for (const Field& field : {Field{"reference", &v1::EvalCase::set_reference},
                             Field{"output", &v1::EvalCase::set_output},
                             Field{"output_b", &v1::EvalCase::set_output_b}}) {
    auto value = TextField(object, field.key);
    if (!value.ok()) return value.status();
    (out.*field.set)(*value);
  }
  if (auto contexts = object.find("contexts"); contexts != object.end() && !contexts->is_null()) {
    if (!contexts->is_array()) return absl::InvalidArgumentError("\"contexts\" must be an array of strings");
    for (const Json& context : *contexts) {
      if (!context.is_string()) return absl::InvalidArgumentError("\"contexts\" must be an array of strings");
      out.add_contexts(context.get<std::string>());
    }
  }
  if (auto labels = object.find("labels"); labels != object.end() && !labels->is_null()) {
    if (!labels->is_object()) return absl::InvalidArgumentError("\"labels\" must be an object");
    for (const auto& [key, value] : labels->items()) {
      (*out.mutable_labels())[key] = value.is_string() ? value.get<std::string>() : DumpJson(value);
    }
  }
  return out;
}

Json CanonicalJson(const v1::EvalCase& c) {
  Json labels = Json::object();
  for (const auto& [key, value] : c.labels()) labels[key] = value;
  return {{"id", c.id()},
          {"input", c.input()},
          {"reference", c.reference()},
          {"contexts", std::vector<std::string>(c.contexts().begin(), c.contexts().end())},
          {"output", c.output()},
          {"output_b", c.output_b()},
          {"labels", labels}};
}

}  // namespace

absl::StatusOr<Cases> ParseJsonlCases(absl::string_view text, absl::string_view what) {
  Cases cases;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    auto json = ParseJson(line, "JSON");
    if (!json.ok()) return LineError(what, number, json.status().message());
    auto parsed = CaseFromJson(*json);
    if (!parsed.ok()) return LineError(what, number, parsed.status().message());
    if (parsed->input().empty()) return LineError(what, number, "missing or empty \"input\"");
    if (parsed->id().empty()) parsed->set_id(absl::StrCat("case-", number));
    cases.push_back(*std::move(parsed));
  }
  return cases;
}

absl::StatusOr<Cases> LoadJsonlCases(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open dataset ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("error reading ", path));
  return ParseJsonlCases(buffer.str(), path);
}

Cases AttachQrels(const Qrels& qrels, Cases cases) {
  Cases judged;
  for (v1::EvalCase& c : cases) {
    auto found = qrels.find(c.id());
    if (found == qrels.end() || found->second.empty()) continue;
    std::set<std::pair<std::string, int>> sorted(found->second.begin(), found->second.end());
    std::vector<std::string> entries;
    for (const auto& [doc, grade] : sorted) entries.push_back(absl::StrCat(doc, ":", grade));
    (*c.mutable_labels())[kRelevantLabel] = absl::StrJoin(entries, ",");
    judged.push_back(std::move(c));
  }
  return judged;
}

absl::StatusOr<QueryJudgments> ParseRelevantLabel(absl::string_view label) {
  QueryJudgments judgments;
  for (absl::string_view entry : absl::StrSplit(label, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    int grade = 1;
    const size_t colon = entry.rfind(':');
    if (colon != absl::string_view::npos) {
      if (!absl::SimpleAtoi(entry.substr(colon + 1), &grade)) {
        return absl::InvalidArgumentError(
            absl::StrCat("labels.relevant: bad grade in \"", entry, "\""));
      }
      entry = entry.substr(0, colon);
    }
    judgments[std::string(entry)] = grade;
  }
  return judgments;
}

absl::Status ValidateCases(const Cases& cases) {
  if (cases.empty()) return absl::InvalidArgumentError("the dataset has no cases");
  std::set<std::string> ids;
  for (size_t i = 0; i < cases.size(); ++i) {
    const v1::EvalCase& c = cases[i];
    if (c.id().empty()) return absl::InvalidArgumentError(absl::StrCat("case ", i + 1, " has no id"));
    if (c.input().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("case \"", c.id(), "\" has no input"));
    }
    if (!ids.insert(c.id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate case id \"", c.id(), "\""));
    }
  }
  return absl::OkStatus();
}

std::string ContentHash(const Cases& cases) {
  std::string canonical;
  for (const v1::EvalCase& c : cases) {
    canonical += DumpJson(CanonicalJson(c));
    canonical += '\n';
  }
  return Sha256Hex(canonical);
}

absl::StatusOr<Cases> ResolveDataset(const v1::Dataset& dataset) {
  if (dataset.max_cases() < 0) return absl::InvalidArgumentError("dataset.max_cases must be >= 0");
  const bool inline_cases = dataset.cases_size() > 0;
  if (inline_cases + !dataset.jsonl_path().empty() + !dataset.dataset_id().empty() != 1) {
    return absl::InvalidArgumentError(
        "dataset: give exactly one of cases, jsonl_path and dataset_id");
  }
  if (!dataset.qrels_path().empty() && dataset.jsonl_path().empty()) {
    return absl::InvalidArgumentError("dataset.qrels_path needs dataset.jsonl_path");
  }
  Cases cases;
  if (inline_cases) {
    cases.assign(dataset.cases().begin(), dataset.cases().end());
    for (size_t i = 0; i < cases.size(); ++i) {
      if (cases[i].id().empty()) cases[i].set_id(absl::StrCat("case-", i + 1));
    }
  } else if (!dataset.jsonl_path().empty()) {
    auto loaded = LoadJsonlCases(dataset.jsonl_path());
    if (!loaded.ok()) return loaded.status();
    cases = *std::move(loaded);
    if (!dataset.qrels_path().empty()) {
      auto qrels = retrieval::LoadBeirQrels(dataset.qrels_path());
      if (!qrels.ok()) return qrels.status();
      cases = AttachQrels(*qrels, std::move(cases));
    }
  } else {
    return absl::InvalidArgumentError("dataset_id is resolved by the job store");
  }
  if (dataset.max_cases() > 0 && static_cast<int>(cases.size()) > dataset.max_cases()) {
    cases.resize(dataset.max_cases());
  }
  absl::Status valid = ValidateCases(cases);
  if (!valid.ok()) return valid;
  return cases;
}

}  // namespace tessera::eval
