#include "agents/retriever.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera::agents {

std::vector<std::string> KeywordTokens(const std::string& text) {
  std::vector<std::string> tokens;
  std::string current;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      current += static_cast<char>(std::tolower(c));
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

Json PassagesToJson(const std::vector<RetrievedPassage>& passages) {
  Json out = Json::array();
  for (const RetrievedPassage& p : passages) {
    out.push_back({{"id", p.id}, {"text", p.text}, {"score", p.score}, {"metadata", p.metadata}});
  }
  return out;
}

void KeywordRetriever::Add(const std::string& tenant, const std::string& collection, const std::string& id,
                           const std::string& text, Json metadata) {
  Doc doc;
  doc.id = id;
  doc.text = text;
  doc.metadata = std::move(metadata);
  for (const std::string& token : KeywordTokens(text)) {
    ++doc.term_counts[token];
    ++doc.length;
  }
  std::lock_guard<std::mutex> lock(mu_);
  collections_[{tenant, collection}].push_back(std::move(doc));
}

absl::StatusOr<std::vector<RetrievedPassage>> KeywordRetriever::Retrieve(const std::string& tenant,
                                                                         const std::string& collection,
                                                                         const std::string& query, int top_k) {
  if (top_k <= 0) return absl::InvalidArgumentError("top_k must be positive");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find({tenant, collection});
  if (it == collections_.end()) {
    return absl::NotFoundError(absl::StrCat("collection '", collection, "' not found"));
  }
  const std::vector<Doc>& docs = it->second;
  double average_length = 0;
  for (const Doc& doc : docs) average_length += doc.length;
  average_length = docs.empty() ? 1 : std::max(1.0, average_length / docs.size());
  std::vector<std::string> terms = KeywordTokens(query);
  std::set<std::string> unique_terms(terms.begin(), terms.end());
  std::vector<RetrievedPassage> hits;
  for (const Doc& doc : docs) {
    double score = 0;
    for (const std::string& term : unique_terms) {
      auto tf = doc.term_counts.find(term);
      if (tf == doc.term_counts.end()) continue;
      int df = 0;
      for (const Doc& other : docs) df += other.term_counts.count(term) > 0;
      double idf = std::log(1 + (docs.size() - df + 0.5) / (df + 0.5));
      double k1 = 1.2, b = 0.75;
      score += idf * tf->second * (k1 + 1) / (tf->second + k1 * (1 - b + b * doc.length / average_length));
    }
    if (score > 0) hits.push_back({doc.id, doc.text, score, doc.metadata});
  }
  std::sort(hits.begin(), hits.end(), [](const RetrievedPassage& a, const RetrievedPassage& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  if (hits.size() > static_cast<size_t>(top_k)) hits.resize(top_k);
  return hits;
}

}  // namespace tessera::agents
