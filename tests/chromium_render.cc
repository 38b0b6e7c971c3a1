#include "tests/chromium_render.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tessera::testing {
namespace {

// Appended to a copy of the page: measures each chart and its marks after
// layout and writes the figures into the DOM for --dump-dom.
constexpr char kMeasure[] = R"(<script>
(function () {
  const charts = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    // Areas for shapes; lines (axes, intervals) are flat, so either extent.
    const drawn = (selector) => [...svg.querySelectorAll(selector)].filter((e) => {
      const b = e.getBoundingClientRect();
      return selector === 'line' ? b.width > 0 || b.height > 0 : b.width > 0 && b.height > 0;
    }).length;
    charts.push({kind: svg.getAttribute('class').replace('chart ', ''),
                 width: box.width, height: box.height,
                 rects: drawn('rect'), circles: drawn('circle'), lines: drawn('line'),
                 texts: drawn('text')});
  }
  const out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = 'MEASURED' + JSON.stringify(charts) + 'END';
  document.body.appendChild(out);
})();
</script>
)";

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// Runs `command` through the shell; stdout in `out`. Returns the exit status.
int RunShell(const std::string& command, std::string* out) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out->append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ChromiumCommand(const std::string& chromium, const std::string& arguments) {
  // A fresh profile in the test's directory; stderr (D-Bus chatter) to a file.
  return absl::StrCat("timeout 40 ", chromium,
                      " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                      " --hide-scrollbars --user-data-dir=", TempDir(), "/chromium-profile ",
                      arguments, " 2>>", TempDir(), "/chromium.log");
}

}  // namespace

std::string FindChromium() {
  if (const char* given = std::getenv("TESSERA_CHROMIUM"); given != nullptr && *given != '\0') return given;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/snap/bin"}) {
      const std::string path = absl::StrCat(dir, "/", name);
      if (access(path.c_str(), X_OK) == 0) return path;
    }
  }
  return "";
}

absl::StatusOr<Json> MeasureCharts(const std::string& chromium, const std::string& html_path) {
  std::stringstream html;
  html << std::ifstream(html_path).rdbuf();
  std::string measured_html = html.str();
  const size_t body_end = measured_html.rfind("</body>");
  if (body_end == std::string::npos) return absl::InvalidArgumentError(html_path + " has no </body>");
  measured_html.insert(body_end, kMeasure);
  const std::string measured_path = html_path + ".measured.html";
  std::ofstream(measured_path) << measured_html;
  std::string dom;
  if (RunShell(ChromiumCommand(chromium, absl::StrCat("--dump-dom file://", measured_path)), &dom) != 0) {
    return absl::InternalError(absl::StrCat("chromium --dump-dom failed; see ", TempDir(), "/chromium.log"));
  }
  // The element the script added (its source holds the marker too).
  const std::string marker = "<pre id=\"measured\">MEASURED";
  const size_t begin = dom.find(marker), end = dom.find("END</pre>", begin);
  if (begin == std::string::npos || end == std::string::npos) {
    return absl::InternalError(absl::StrCat("no measurements in the DOM: ", dom.substr(0, 2000)));
  }
  return ParseJson(dom.substr(begin + marker.size(), end - begin - marker.size()), "measured charts");
}

absl::StatusOr<double> DrawnShare(const std::string& chromium, const std::string& html_path,
                                  const std::string& png_path) {
  std::string ignored;
  if (RunShell(ChromiumCommand(chromium, absl::StrCat("--window-size=1000,2400 --screenshot=", png_path,
                                                      " file://", html_path)),
               &ignored) != 0) {
    return absl::InternalError(absl::StrCat("chromium --screenshot failed; see ", TempDir(), "/chromium.log"));
  }
  std::string ink;
  if (RunShell(absl::StrCat("python3 tests/eval_png_ink.py ", png_path), &ink) != 0) {
    return absl::InternalError("eval_png_ink.py failed: " + ink);
  }
  std::vector<std::string> fields = absl::StrSplit(absl::StripAsciiWhitespace(ink), ' ');
  if (fields.size() != 3 || fields[0] != "1000") return absl::InternalError("unexpected ink line: " + ink);
  return std::stod(fields[2]);
}

}  // namespace tessera::testing
