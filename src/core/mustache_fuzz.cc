// libFuzzer target for the Mustache engine. The first byte chooses where the rest splits into a
// template and a JSON document. Any template either fails to compile with InvalidArgument, or
// compiles and renders, against the document when it parses and a fixed one otherwise, with
// every name resolving to the template itself as a partial (so recursion and exponential
// growth are exercised), into output within the limits, or fails with ResourceExhausted.
// Rendering is deterministic, reports each missing name once, and only names the template uses.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "boost/json/parse.hpp"
#include "core/mustache.h"

namespace {

using herald::Result;
using herald::core::RenderOptions;
using herald::core::RenderResult;
using herald::core::Template;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

void CheckUnique(const std::vector<std::string>& names) {
  std::unordered_set<std::string_view> seen;
  for (const std::string& n : names) Check(seen.insert(n).second);
}

// Renders and checks what holds for any outcome; returns the result when it rendered.
Result<RenderResult> RenderChecked(const Template& t, const boost::json::value& data,
                                   const herald::core::PartialLookup& partials,
                                   const RenderOptions& options) {
  Result<RenderResult> r = herald::core::Render(t, data, partials, options);
  if (!r.ok()) {
    Check(r.status().code() == absl::StatusCode::kResourceExhausted);
    Check(!r.status().message().empty());
    return r;
  }
  Check(r->text.size() <= options.max_output_bytes);
  CheckUnique(r->missing);
  for (const std::string& name : r->missing) {
    Check(!name.empty());
    if (name[0] == '>') {
      Check(Contains(t.partials(), std::string_view(name).substr(1)));
    } else {
      Check(Contains(t.variables(), name));
    }
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = static_cast<size_t>(data[0]) * rest.size() / 255;
  const std::string_view source = rest.substr(0, split);
  const std::string_view json = rest.substr(split);

  Result<Template> t = Template::Compile(source);
  if (!t.ok()) {
    Check(t.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!t.status().message().empty());
    return 0;
  }
  CheckUnique(t->variables());
  CheckUnique(t->partials());
  for (const std::string& name : t->variables()) {
    Check(!name.empty() && name != "." && source.find(name) != std::string_view::npos);
  }
  for (const std::string& name : t->partials()) {
    Check(!name.empty() && source.find(name) != std::string_view::npos);
  }

  static const boost::json::value kFallback = boost::json::parse(R"({
      "a": [1, {"b": "x<&>'\"", "e": [[], ""]}, [true, null, 2.5]],
      "b": {"c": {"a": [0, 1, 2], "d": "\u00e9t\u00e9"}},
      "e": [], "i": "", "o": null, "u": false, "x": 1e21, "y": -0.0, "z": {"z": {"z": 0}},
      "0": "zero", "1": [[[1]]]})");
  boost::system::error_code ec;
  const boost::json::value parsed =
      boost::json::parse(boost::json::string_view(json.data(), json.size()), ec);
  const boost::json::value& doc = ec ? kFallback : parsed;

  const Template& self = *t;
  const herald::core::PartialLookup partials = [&self](std::string_view name) {
    return name[0] < 'n' ? &self : nullptr;
  };
  RenderOptions options;
  options.max_output_bytes = 64 * 1024;
  options.max_steps = 200'000;

  Result<RenderResult> escaped = RenderChecked(self, doc, partials, options);
  Result<RenderResult> again = RenderChecked(self, doc, partials, options);
  Check(escaped.ok() == again.ok());
  if (escaped.ok()) {
    Check(escaped->text == again->text && escaped->missing == again->missing);
  } else {
    Check(escaped.status() == again.status());
  }

  options.html_escape = false;
  Result<RenderResult> raw = RenderChecked(self, doc, partials, options);
  if (escaped.ok() && raw.ok()) Check(raw->text.size() <= escaped->text.size());

  Result<RenderResult> alone = RenderChecked(self, doc, {}, options);
  if (alone.ok() && source.find("{{") == std::string_view::npos) Check(alone->text == source);
  return 0;
}
