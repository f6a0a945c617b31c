#include "core/mustache.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "boost/json/serialize.hpp"
#include "core/strings.h"

namespace herald::core {
namespace {

// Inside a tag, around the name.
bool IsTagSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
// Around a standalone tag on its line.
bool IsLineSpace(char c) { return c == ' ' || c == '\t'; }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsTagSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsTagSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsValidName(std::string_view name) {
  if (name == ".") return true;
  bool segment_empty = true;
  for (char c : name) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if (IsNameChar(c)) {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

bool IsValidPartialName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsNameChar(c) && c != '.' && c != '/') return false;
  }
  return true;
}

// `s` for an error message: at most 40 bytes (cut on a code point boundary), control
// characters shown as '?'.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  bool cut = false;
  if (s.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "'";
  for (char c : s) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? '?' : c);
  out += cut ? "...'" : "'";
  return out;
}

// 1-based line and column (in code points) of source[offset].
std::string Position(std::string_view source, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return StrCat("line ", line, ", column ", column);
}

// As JavaScript's Number.prototype.toString: the shortest digits that round-trip, positional
// from 1e-6 up to 1e21, exponential outside.
void AppendDouble(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
    return;
  }
  if (d == 0) {
    out += "0";  // -0 too, as in JavaScript
    return;
  }
  char buf[64];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  if (r.ec != std::errc()) return;  // cannot happen: 64 bytes hold any double
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));  // "-1.2345e+02"
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  const int exponent = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // the decimal point goes after n digits
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out += exponent >= 0 ? "e+" : "e-";
    out += std::to_string(std::abs(exponent));
  }
}

template <typename Int>
void AppendInt(Int v, std::string& out) {
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

bool IsFalsey(const boost::json::value& v) {
  if (v.is_null()) return true;
  if (const bool* b = v.if_bool()) return !*b;
  if (const boost::json::array* a = v.if_array()) return a->empty();
  return false;
}

}  // namespace

class Template::Parser {
 public:
  explicit Parser(Template& t) : t_(t), src_(t.source_) {}

  Status Run();

 private:
  enum class TagType {
    kEscaped,
    kUnescaped,
    kSection,
    kInverted,
    kClose,
    kComment,
    kPartial,
    kDelimiters
  };
  struct Tag {
    TagType type = TagType::kEscaped;
    std::string_view content;  // trimmed; for kDelimiters, what lies between the '='s
    size_t end = 0;            // one past the closing delimiter
  };
  struct OpenSection {
    size_t node;
    size_t offset;
    std::string_view name;
  };

  Status Error(size_t offset, std::string_view message) const {
    return absl::InvalidArgumentError(StrCat(Position(src_, offset), ": ", message));
  }
  // Parses the tag whose opening delimiter starts at `p`.
  Result<Tag> ParseTag(size_t p) const;
  Status CheckName(size_t p, std::string_view name) const;
  Status SetDelimiters(size_t p, std::string_view content);
  // Literal text src_[a, b), one node per line, each line start marked.
  void AddText(size_t a, size_t b);
  void MarkLineStart(size_t p) {
    if (p == 0 || src_[p - 1] == '\n') AddNode(Kind::kLineStart, p, 0);
  }
  void AddNode(Kind kind, size_t begin, size_t size) {
    Node node;
    node.kind = kind;
    node.begin = static_cast<uint32_t>(begin);
    node.size = static_cast<uint32_t>(size);
    t_.nodes_.push_back(node);
  }
  size_t Offset(std::string_view s) const { return static_cast<size_t>(s.data() - src_.data()); }
  void AddVariable(std::string_view name) {
    if (name != "." && seen_variables_.insert(name).second) t_.variables_.emplace_back(name);
  }

  Template& t_;
  const std::string_view src_;
  std::string open_ = "{{";
  std::string close_ = "}}";
  std::string close_triple_ = "}}}";
  std::string close_delimiters_ = "=}}";
  std::vector<OpenSection> sections_;
  std::unordered_set<std::string_view> seen_variables_;
  std::unordered_set<std::string_view> seen_partials_;
};

Result<Template::Parser::Tag> Template::Parser::ParseTag(size_t p) const {
  size_t r = p + open_.size();
  while (r < src_.size() && IsTagSpace(src_[r])) ++r;
  const char sigil = r < src_.size() ? src_[r] : '\0';
  Tag tag;
  std::string_view terminator = close_;
  size_t from = r + 1;
  switch (sigil) {
    case '{':
      tag.type = TagType::kUnescaped;
      terminator = close_triple_;
      break;
    case '&':
      tag.type = TagType::kUnescaped;
      break;
    case '#':
      tag.type = TagType::kSection;
      break;
    case '^':
      tag.type = TagType::kInverted;
      break;
    case '/':
      tag.type = TagType::kClose;
      break;
    case '!':
      tag.type = TagType::kComment;
      break;
    case '>':
      tag.type = TagType::kPartial;
      break;
    case '=':
      tag.type = TagType::kDelimiters;
      terminator = close_delimiters_;
      break;
    case '<':
    case '$':
      return Error(p, StrCat("template inheritance ('", open_, sigil, "' tags) is not supported"));
    default:
      tag.type = TagType::kEscaped;
      from = r;
      break;
  }
  const size_t close = src_.find(terminator, from);
  if (close == std::string_view::npos) {
    return Error(p,
                 StrCat("tag opened with '", open_, "' is never closed (no '", terminator, "')"));
  }
  tag.content = Trim(src_.substr(from, close - from));
  tag.end = close + terminator.size();
  return tag;
}

Status Template::Parser::CheckName(size_t p, std::string_view name) const {
  if (name.empty()) return Error(p, "empty tag name");
  if (!IsValidName(name)) {
    return Error(p, StrCat("invalid name ", Quote(name),
                           ": use letters, digits, '_' and '-', with single dots between parts, "
                           "or '.' alone"));
  }
  return absl::OkStatus();
}

Status Template::Parser::SetDelimiters(size_t p, std::string_view content) {
  size_t i = 0;
  while (i < content.size() && !IsTagSpace(content[i])) ++i;
  const std::string_view open = content.substr(0, i);
  const std::string_view close = Trim(content.substr(i));
  bool ok = !open.empty() && !close.empty();
  for (char c : close) ok = ok && !IsTagSpace(c);
  ok = ok && open.find('=') == std::string_view::npos && close.find('=') == std::string_view::npos;
  if (!ok) {
    return Error(p,
                 "a set-delimiter tag needs two delimiters without spaces or '=', as in "
                 "{{=<% %>=}}");
  }
  open_ = std::string(open);
  close_ = std::string(close);
  close_triple_ = StrCat("}", close_);
  close_delimiters_ = StrCat("=", close_);
  return absl::OkStatus();
}

void Template::Parser::AddText(size_t a, size_t b) {
  while (a < b) {
    MarkLineStart(a);
    const size_t newline = src_.find('\n', a);
    const size_t line_end = newline == std::string_view::npos || newline >= b ? b : newline + 1;
    AddNode(Kind::kText, a, line_end - a);
    a = line_end;
  }
}

Status Template::Parser::Run() {
  const size_t n = src_.size();
  size_t pos = 0;       // start of the text not yet turned into nodes
  size_t last_end = 0;  // end of the previous tag, or of the standalone line it removed
  while (true) {
    const size_t p = src_.find(open_, pos);
    if (p == std::string_view::npos) {
      AddText(pos, n);
      break;
    }
    HERALD_ASSIGN_OR_RETURN(const Tag tag, ParseTag(p));

    // A tag other than an interpolation, alone on its line, removes the line.
    bool standalone = false;
    size_t line_begin = p;
    size_t after = tag.end;
    if (tag.type != TagType::kEscaped && tag.type != TagType::kUnescaped) {
      while (line_begin > last_end && IsLineSpace(src_[line_begin - 1])) --line_begin;
      if (line_begin == 0 || src_[line_begin - 1] == '\n') {
        size_t e = tag.end;
        while (e < n && IsLineSpace(src_[e])) ++e;
        if (e == n) {
          standalone = true;
          after = n;
        } else if (src_[e] == '\n') {
          standalone = true;
          after = e + 1;
        } else if (src_[e] == '\r' && e + 1 < n && src_[e + 1] == '\n') {
          standalone = true;
          after = e + 2;
        }
      }
    }
    if (standalone) {
      AddText(pos, line_begin);
    } else {
      AddText(pos, p);
      MarkLineStart(p);
      line_begin = p;
    }
    pos = after;
    last_end = after;

    const std::string_view name = tag.content;
    switch (tag.type) {
      case TagType::kEscaped:
      case TagType::kUnescaped:
        HERALD_RETURN_IF_ERROR(CheckName(p, name));
        AddNode(tag.type == TagType::kEscaped ? Kind::kEscaped : Kind::kUnescaped, Offset(name),
                name.size());
        AddVariable(name);
        break;
      case TagType::kSection:
      case TagType::kInverted:
        HERALD_RETURN_IF_ERROR(CheckName(p, name));
        if (sections_.size() >= static_cast<size_t>(kMaxSectionDepth)) {
          return Error(p, StrCat("sections nested deeper than ", kMaxSectionDepth));
        }
        sections_.push_back({t_.nodes_.size(), p, name});
        AddNode(tag.type == TagType::kSection ? Kind::kSection : Kind::kInverted, Offset(name),
                name.size());
        AddVariable(name);
        break;
      case TagType::kClose: {
        HERALD_RETURN_IF_ERROR(CheckName(p, name));
        if (sections_.empty()) {
          return Error(p, StrCat("closing tag for ", Quote(name), " without an open section"));
        }
        const OpenSection& open = sections_.back();
        if (open.name != name) {
          return Error(p, StrCat("closing tag for ", Quote(name), " does not match section ",
                                 Quote(open.name), " opened at ", Position(src_, open.offset)));
        }
        t_.nodes_[open.node].end = static_cast<uint32_t>(t_.nodes_.size());
        sections_.pop_back();
        break;
      }
      case TagType::kComment:
        break;
      case TagType::kPartial: {
        if (name.empty()) return Error(p, "empty partial name");
        if (!IsValidPartialName(name)) {
          return Error(p, StrCat("invalid partial name ", Quote(name),
                                 ": use letters, digits, '_', '-', '.' and '/'"));
        }
        AddNode(Kind::kPartial, Offset(name), name.size());
        Node& node = t_.nodes_.back();
        node.standalone = standalone;
        node.indent_begin = static_cast<uint32_t>(line_begin);
        node.indent_size = static_cast<uint32_t>(p - line_begin);
        if (seen_partials_.insert(name).second) t_.partials_.emplace_back(name);
        break;
      }
      case TagType::kDelimiters:
        HERALD_RETURN_IF_ERROR(SetDelimiters(p, name));
        break;
    }
  }
  if (!sections_.empty()) {
    const OpenSection& open = sections_.back();
    return Error(open.offset, StrCat("section ", Quote(open.name), " is never closed"));
  }
  return absl::OkStatus();
}

Result<Template> Template::Compile(std::string_view source) {
  if (source.size() > kMaxTemplateBytes) {
    return absl::InvalidArgumentError(StrCat("template is ", source.size(), " bytes, over the ",
                                             kMaxTemplateBytes, "-byte limit"));
  }
  Template t;
  t.source_ = std::string(source);
  HERALD_RETURN_IF_ERROR(Parser(t).Run());
  return t;
}

class Template::Renderer {
 public:
  Renderer(const PartialLookup& partials, const RenderOptions& options)
      : partials_(partials), options_(options) {}

  Status Run(const Template& t, const boost::json::value& data) {
    stack_.push_back(&data);
    return RenderRange(t, 0, t.nodes_.size(), "", 0);
  }
  RenderResult TakeResult() { return {std::move(out_), std::move(missing_)}; }

 private:
  Status RenderRange(const Template& t, size_t begin, size_t end, std::string_view indent,
                     int depth);
  Status RenderSection(const Template& t, size_t i, std::string_view indent, int depth);
  Status RenderPartial(const Template& t, const Node& node, std::string_view indent, int depth);

  // The value `name` ("." or dotted) resolves to on the context stack, or nullptr.
  const boost::json::value* Lookup(std::string_view name);
  void Missing(std::string_view name) {
    if (missing_seen_.emplace(name).second) missing_.emplace_back(name);
  }

  Status Step() {
    if (++steps_ > options_.max_steps) {
      return absl::ResourceExhaustedError(
          StrCat("rendering took more than ", options_.max_steps, " steps"));
    }
    return absl::OkStatus();
  }
  Status Append(std::string_view s) {
    if (s.size() > options_.max_output_bytes - std::min(out_.size(), options_.max_output_bytes)) {
      return absl::ResourceExhaustedError(
          StrCat("rendered text exceeds ", options_.max_output_bytes, " bytes"));
    }
    out_.append(s);
    return absl::OkStatus();
  }
  Status AppendEscaped(std::string_view s);
  Status AppendValue(const boost::json::value& v, bool escape);

  const PartialLookup& partials_;
  const RenderOptions& options_;
  std::vector<const boost::json::value*> stack_;
  uint64_t steps_ = 0;
  std::string out_;
  std::vector<std::string> missing_;
  std::unordered_set<std::string> missing_seen_;
  std::string scratch_;
};

const boost::json::value* Template::Renderer::Lookup(std::string_view name) {
  if (name == ".") return stack_.back();
  size_t dot = name.find('.');
  const std::string_view first = name.substr(0, dot);
  const boost::json::value* v = nullptr;
  for (auto it = stack_.rbegin(); it != stack_.rend() && v == nullptr; ++it) {
    ++steps_;
    if (const boost::json::object* object = (*it)->if_object()) {
      auto found = object->find(boost::json::string_view(first.data(), first.size()));
      if (found != object->end()) v = &found->value();
    }
  }
  while (v != nullptr && dot != std::string_view::npos) {
    const size_t start = dot + 1;
    dot = name.find('.', start);
    const std::string_view part = name.substr(start, dot - start);
    const boost::json::object* object = v->if_object();
    if (object == nullptr) return nullptr;
    auto found = object->find(boost::json::string_view(part.data(), part.size()));
    v = found == object->end() ? nullptr : &found->value();
  }
  return v;
}

Status Template::Renderer::AppendEscaped(std::string_view s) {
  size_t run = 0;  // start of the characters not yet appended
  for (size_t i = 0; i < s.size(); ++i) {
    std::string_view entity;
    switch (s[i]) {
      case '&':
        entity = "&amp;";
        break;
      case '<':
        entity = "&lt;";
        break;
      case '>':
        entity = "&gt;";
        break;
      case '"':
        entity = "&quot;";
        break;
      case '\'':
        entity = "&#39;";
        break;
      default:
        continue;
    }
    HERALD_RETURN_IF_ERROR(Append(s.substr(run, i - run)));
    HERALD_RETURN_IF_ERROR(Append(entity));
    run = i + 1;
  }
  return Append(s.substr(run));
}

Status Template::Renderer::AppendValue(const boost::json::value& v, bool escape) {
  scratch_.clear();
  switch (v.kind()) {
    case boost::json::kind::null:
      return absl::OkStatus();
    case boost::json::kind::bool_:
      return Append(v.get_bool() ? "true" : "false");
    case boost::json::kind::int64:
      AppendInt(v.get_int64(), scratch_);
      return Append(scratch_);
    case boost::json::kind::uint64:
      AppendInt(v.get_uint64(), scratch_);
      return Append(scratch_);
    case boost::json::kind::double_:
      AppendDouble(v.get_double(), scratch_);
      return Append(scratch_);
    case boost::json::kind::string: {
      const boost::json::string& s = v.get_string();
      const std::string_view text(s.data(), s.size());
      return escape ? AppendEscaped(text) : Append(text);
    }
    case boost::json::kind::array:
    case boost::json::kind::object:
      scratch_ = boost::json::serialize(v);
      return escape ? AppendEscaped(scratch_) : Append(scratch_);
  }
  return absl::OkStatus();
}

Status Template::Renderer::RenderRange(const Template& t, size_t begin, size_t end,
                                       std::string_view indent, int depth) {
  const std::string_view src = t.source_;
  size_t i = begin;
  while (i < end) {
    HERALD_RETURN_IF_ERROR(Step());
    const Node& node = t.nodes_[i];
    const std::string_view text = src.substr(node.begin, node.size);
    switch (node.kind) {
      case Kind::kText:
        HERALD_RETURN_IF_ERROR(Append(text));
        ++i;
        break;
      case Kind::kLineStart:
        HERALD_RETURN_IF_ERROR(Append(indent));
        ++i;
        break;
      case Kind::kEscaped:
      case Kind::kUnescaped:
        if (const boost::json::value* v = Lookup(text)) {
          HERALD_RETURN_IF_ERROR(
              AppendValue(*v, node.kind == Kind::kEscaped && options_.html_escape));
        } else {
          Missing(text);
        }
        ++i;
        break;
      case Kind::kSection:
      case Kind::kInverted:
        HERALD_RETURN_IF_ERROR(RenderSection(t, i, indent, depth));
        i = node.end;
        break;
      case Kind::kPartial:
        HERALD_RETURN_IF_ERROR(RenderPartial(t, node, indent, depth));
        ++i;
        break;
    }
  }
  return absl::OkStatus();
}

Status Template::Renderer::RenderSection(const Template& t, size_t i, std::string_view indent,
                                         int depth) {
  const Node& node = t.nodes_[i];
  const std::string_view name = std::string_view(t.source_).substr(node.begin, node.size);
  const boost::json::value* v = Lookup(name);
  if (v == nullptr) Missing(name);
  const bool falsey = v == nullptr || IsFalsey(*v);
  if (node.kind == Kind::kInverted) {
    return falsey ? RenderRange(t, i + 1, node.end, indent, depth) : absl::OkStatus();
  }
  if (falsey) return absl::OkStatus();
  if (const boost::json::array* items = v->if_array()) {
    for (const boost::json::value& item : *items) {
      HERALD_RETURN_IF_ERROR(Step());
      stack_.push_back(&item);
      const Status status = RenderRange(t, i + 1, node.end, indent, depth);
      stack_.pop_back();
      HERALD_RETURN_IF_ERROR(status);
    }
    return absl::OkStatus();
  }
  stack_.push_back(v);
  const Status status = RenderRange(t, i + 1, node.end, indent, depth);
  stack_.pop_back();
  return status;
}

Status Template::Renderer::RenderPartial(const Template& t, const Node& node,
                                         std::string_view indent, int depth) {
  const std::string_view name = std::string_view(t.source_).substr(node.begin, node.size);
  const Template* partial = partials_ ? partials_(name) : nullptr;
  if (partial == nullptr) {
    Missing(StrCat(">", name));
    return absl::OkStatus();
  }
  if (depth >= kMaxPartialDepth) {
    return absl::ResourceExhaustedError(StrCat("partials nested deeper than ", kMaxPartialDepth,
                                               " (at partial ", Quote(name), ")"));
  }
  // As if the partial's text were pasted in place of a standalone tag with the tag's
  // indentation before each of its lines; a partial inside a line is pasted as it is.
  std::string partial_indent;
  if (node.standalone) {
    partial_indent =
        StrCat(indent, std::string_view(t.source_).substr(node.indent_begin, node.indent_size));
  }
  return RenderRange(*partial, 0, partial->nodes_.size(), partial_indent, depth + 1);
}

Result<RenderResult> Render(const Template& t, const boost::json::value& data,
                            const PartialLookup& partials, const RenderOptions& options) {
  Template::Renderer renderer(partials, options);
  HERALD_RETURN_IF_ERROR(renderer.Run(t, data));
  return renderer.TakeResult();
}

}  // namespace herald::core
