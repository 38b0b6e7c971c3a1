// Renders an HTML page in headless Chromium for tests: the charts
// (<svg class="chart ...">) as the browser lays them out, and a screenshot's
// share of drawn pixels. Tests skip, saying so, when FindChromium() is empty.
#ifndef TESSERA_TESTS_CHROMIUM_RENDER_H_
#define TESSERA_TESTS_CHROMIUM_RENDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/json.h"

namespace tessera::testing {

// $TESSERA_CHROMIUM, else chromium / chromium-browser / google-chrome on the
// usual paths; "" when there is none (apt-get install chromium).
std::string FindChromium();

// One object per chart of the page at `html_path`, after layout: kind (the
// class after "chart "), width, height and the counts of drawn rects,
// circles, lines and texts. Works on a copy with a measuring script appended
// (the page itself needs no script).
absl::StatusOr<Json> MeasureCharts(const std::string& chromium, const std::string& html_path);

// The share (0..1) of non-white pixels of a 1000 px wide screenshot of the
// page as written; `png_path` receives the picture.
absl::StatusOr<double> DrawnShare(const std::string& chromium, const std::string& html_path,
                                  const std::string& png_path);

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_CHROMIUM_RENDER_H_
