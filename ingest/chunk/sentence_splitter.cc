#include "ingest/chunk/sentence_splitter.h"

#include <unicode/brkiter.h>
#include <unicode/filteredbrk.h>
#include <unicode/unistr.h>
#include <unicode/locid.h>
#include <unicode/utext.h>

#include "absl/strings/str_cat.h"

namespace tessera::ingest {

absl::StatusOr<std::unique_ptr<SentenceSplitter>> SentenceSplitter::Create() {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> base(
      icu::BreakIterator::createSentenceInstance(icu::Locale::getEnglish(), status));
  if (U_FAILURE(status) || base == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create an ICU sentence iterator: ", u_errorName(status)));
  }
  // ICU's list of English abbreviations that do not end a sentence ("Mr.", "e.g."),
  // plus a few common in technical text that it lacks.
  std::unique_ptr<icu::FilteredBreakIteratorBuilder> filter(
      icu::FilteredBreakIteratorBuilder::createInstance(icu::Locale::getEnglish(), status));
  if (U_FAILURE(status) || filter == nullptr) {
    return std::unique_ptr<SentenceSplitter>(new SentenceSplitter(std::move(base)));
  }
  for (const char* abbreviation : {"Dr.", "Fig.", "Figs.", "Eq.", "al.", "vs.", "cf.", "approx."}) {
    filter->suppressBreakAfter(icu::UnicodeString(abbreviation), status);
  }
  std::unique_ptr<icu::BreakIterator> filtered(
      filter->wrapIteratorWithFilter(base.release(), status));
  if (U_FAILURE(status) || filtered == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create an ICU sentence filter: ", u_errorName(status)));
  }
  return std::unique_ptr<SentenceSplitter>(new SentenceSplitter(std::move(filtered)));
}

SentenceSplitter::SentenceSplitter(std::unique_ptr<icu::BreakIterator> iterator)
    : iterator_(std::move(iterator)) {}

SentenceSplitter::~SentenceSplitter() = default;

std::vector<size_t> SentenceSplitter::SentenceEnds(absl::string_view text) {
  std::vector<size_t> ends;
  if (text.empty()) return ends;
  // ICU ends a sentence at every line break; join wrapped lines first (same length,
  // so offsets carry over).
  scratch_.assign(text.data(), text.size());
  for (char& c : scratch_) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  UErrorCode status = U_ZERO_ERROR;
  UText* utext = utext_openUTF8(nullptr, scratch_.data(), static_cast<int64_t>(scratch_.size()),
                                &status);
  if (U_FAILURE(status)) {
    ends.push_back(text.size());
    return ends;
  }
  iterator_->setText(utext, status);
  if (U_SUCCESS(status)) {
    // For UTF-8 text, ICU's positions are byte offsets.
    for (int32_t end = iterator_->next(); end != icu::BreakIterator::DONE;
         end = iterator_->next()) {
      ends.push_back(static_cast<size_t>(end));
    }
  }
  utext_close(utext);
  if (ends.empty() || ends.back() != text.size()) ends.push_back(text.size());
  return ends;
}

}  // namespace tessera::ingest
