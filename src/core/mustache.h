#pragma once
// A small, strict Mustache engine for notification bodies and subjects and for document
// templates: templates are compiled once (Template::Compile), then rendered against JSON data
// (Render). It implements the mustache/spec modules "interpolation", "sections", "inverted",
// "comments", "partials" and "delimiters"; lambdas, dynamic names and template inheritance
// ({{<parent}}, {{$block}}) are not supported and are compile errors.
//
// Semantics (those of the spec):
//   - {{name}} interpolates, HTML-escaping & < > " ' (unless RenderOptions::html_escape is
//     false, e.g. for SMS); {{{name}}} and {{& name}} never escape.
//   - Names are looked up on a context stack whose bottom is the data: the first segment of a
//     dotted name (a.b.c) is searched from the top of the stack down, the rest is resolved only
//     inside what it found. {{.}} is the top of the stack. Only JSON objects have keys.
//   - A section {{#name}}...{{/name}} is skipped when the value is missing, false, null or an
//     empty array; an array renders the body once per element (pushed on the stack); any other
//     value (an object, a number including 0, a string including "") renders it once with the
//     value pushed. An inverted section {{^name}}...{{/name}} renders once exactly when the
//     section would be skipped.
//   - Strings are copied as they are (UTF-8 passes through untouched); integers print in
//     decimal; doubles print as JavaScript's Number#toString does (1.5, 1.21, 1e+21); true and
//     false as such; null and missing values as nothing; arrays and objects as compact JSON.
//   - A section, inverted, closing, comment, partial or set-delimiter tag alone on its line
//     (only spaces or tabs around it) removes that line. The whitespace before a standalone
//     {{> partial}} indents every line of the partial.
//   - {{> name}} renders the partial returned by the PartialLookup against the current context
//     stack. A partial that cannot be found renders as nothing.
//
// Names are "." or segments of [A-Za-z0-9_-] joined by single dots; partial names are made of
// [A-Za-z0-9_./-]. Whitespace inside a tag around the name is ignored ({{ name }}).
//
// Template is immutable once compiled: thread-safe to render concurrently, cheap to move.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "boost/json/value.hpp"
#include "core/status.h"

namespace herald::core {

inline constexpr size_t kMaxTemplateBytes = 256 * 1024;
// Sections open at once within one template.
inline constexpr int kMaxSectionDepth = 64;
// Partials rendering inside one another (a partial that includes itself counts every time).
inline constexpr int kMaxPartialDepth = 16;
inline constexpr size_t kMaxOutputBytes = 4 * 1024 * 1024;
// Work units per render (a node visited, a context searched): bounds templates that loop a lot
// while printing little, such as sections over the same array nested ten deep.
inline constexpr uint64_t kMaxRenderSteps = 16'000'000;

class Template;

// Finds a partial by name, or returns nullptr when there is none. The template must stay
// valid until Render returns. Called concurrently when renders run concurrently.
using PartialLookup = std::function<const Template*(std::string_view name)>;

struct RenderOptions {
  // {{name}} escapes & < > " ' as &amp; &lt; &gt; &quot; &#39;. Off for plain text (SMS).
  bool html_escape = true;
  // Lower limits for callers that want them (tests, fuzzing); values above the defaults are
  // allowed.
  size_t max_output_bytes = kMaxOutputBytes;
  uint64_t max_steps = kMaxRenderSteps;
};

struct RenderResult {
  std::string text;
  // Names that resolved to nothing during this render (not found on the context stack, or a
  // dotted name whose chain broke), in order of first occurrence, without duplicates;
  // partials that could not be found as ">name". Names inside sections that did not render
  // are not looked up, hence not reported. A name whose value is null is found.
  std::vector<std::string> missing;
};

// A compiled template. Thread-safe (immutable).
class Template {
 public:
  // The empty template; renders as "".
  Template() = default;

  // Compiles `source`. Errors: InvalidArgument for a template over kMaxTemplateBytes, and,
  // naming the 1-based line and column (in code points) of the offending tag, e.g.
  // "line 3, column 5: section 'items' is never closed": an unclosed tag, an unclosed
  // section, a closing tag that does not match the open section (or with none open), an
  // empty name, a name with characters outside the sets above, sections nested deeper than
  // kMaxSectionDepth, a malformed set-delimiter tag, and unsupported tags ({{<}}, {{$}}).
  static Result<Template> Compile(std::string_view source);

  // Every variable and section name the template references, as written (dotted), in order
  // of first appearance, without duplicates and without ".". Partials are not followed.
  const std::vector<std::string>& variables() const { return variables_; }
  // Every partial name the template references, in order of first appearance, no duplicates.
  const std::vector<std::string>& partials() const { return partials_; }

 private:
  friend Result<RenderResult> Render(const Template& t, const boost::json::value& data,
                                     const PartialLookup& partials, const RenderOptions& options);

  enum class Kind : uint8_t {
    kText,       // source_[begin, begin + size)
    kLineStart,  // a line of the source starts here: the partial indentation goes here
    kEscaped,    // {{name}}
    kUnescaped,  // {{{name}}} or {{& name}}
    kSection,    // {{#name}}: the body is nodes_(this, end)
    kInverted,   // {{^name}}: idem
    kPartial,    // {{> name}}; indent_* is the whitespace before it when standalone
  };
  struct Node {
    Kind kind = Kind::kText;
    bool standalone = false;  // kPartial only
    uint32_t begin = 0;       // text, name or partial name, in source_
    uint32_t size = 0;
    uint32_t end = 0;  // kSection, kInverted: index of the first node after the body
    uint32_t indent_begin = 0;
    uint32_t indent_size = 0;
  };
  class Parser;
  class Renderer;

  std::string source_;
  std::vector<Node> nodes_;
  std::vector<std::string> variables_;
  std::vector<std::string> partials_;
};

// Renders `t` against `data`. Errors: ResourceExhausted when the output would exceed
// options.max_output_bytes, when the render takes more than options.max_steps, or when
// partials nest deeper than kMaxPartialDepth (the message names the partial).
Result<RenderResult> Render(const Template& t, const boost::json::value& data,
                            const PartialLookup& partials = {}, const RenderOptions& options = {});

}  // namespace herald::core
