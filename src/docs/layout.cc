#include "docs/layout.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "boost/json.hpp"
#include "core/mustache.h"
#include "core/strings.h"

namespace herald::docs {

enum class Align { kLeft, kCenter, kRight };

struct LayoutBlock {
  enum class Kind {
    kHeading,
    kText,
    kFields,
    kTable,
    kQr,
    kImage,
    kLink,
    kRule,
    kSpacer,
    kColumns
  };
  struct Field {
    core::Template label, value;
  };
  struct Column {
    core::Template header;
    core::Template value;
    double weight = 1;
    Align align = Align::kLeft;
  };

  Kind kind = Kind::kText;
  std::optional<core::Template> when;
  core::Template text, url;
  double size = 10;
  bool bold = false;
  Rgb color;
  Align align = Align::kLeft;
  double label_width = 120;
  std::vector<Field> fields;
  std::vector<std::string> rows;  // path to the table's array
  std::vector<Column> columns;
  QrErrorCorrection ec = QrErrorCorrection::kMedium;
  std::string image;
  double width = 0, height = 0;
  std::vector<double> weights;
  double gap = 16;
  std::vector<std::vector<LayoutBlock>> children;
};

namespace {

namespace json = boost::json;

constexpr double kLineSpacing = 1.3;
constexpr double kBlockGap = 6;
constexpr double kCellPadding = 4;
constexpr Rgb kGrey{0.4, 0.4, 0.4};
constexpr Rgb kLightGrey{0.85, 0.85, 0.85};
constexpr Rgb kHeaderFill{0.93, 0.93, 0.93};
constexpr int kMaxColumnsDepth = 4;

// ---- Parsing --------------------------------------------------------------------------------

class Parser {
 public:
  Result<std::vector<LayoutBlock>> Blocks(const json::value& v, const std::string& path,
                                          int depth) {
    const json::array* array = v.if_array();
    if (array == nullptr) return Error(path, "expected an array of blocks");
    std::vector<LayoutBlock> blocks;
    for (size_t i = 0; i < array->size(); ++i) {
      if (++count_ > kMaxTemplateBlocks) {
        return Error(path, StrCat("a template has at most ", kMaxTemplateBlocks, " blocks"));
      }
      HERALD_ASSIGN_OR_RETURN(LayoutBlock b, Block((*array)[i], StrCat(path, "[", i, "]"), depth));
      blocks.push_back(std::move(b));
    }
    return blocks;
  }

  static Status Error(std::string_view path, std::string_view message) {
    return absl::InvalidArgumentError(StrCat(path, ": ", message));
  }

  static Result<core::Template> Compile(const json::object& o, std::string_view key,
                                        const std::string& path, bool required) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
      if (required) return Error(StrCat(path, ".", key), "required");
      return core::Template();
    }
    if (!v->is_string()) return Error(StrCat(path, ".", key), "expected a string");
    Result<core::Template> t = core::Template::Compile(v->get_string());
    if (!t.ok()) return Error(StrCat(path, ".", key), ToStd(t.status().message()));
    return t;
  }

  static Result<double> Number(const json::object& o, std::string_view key, const std::string& path,
                               double fallback, double min, double max) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) return Error(StrCat(path, ".", key), "expected a number");
    const double d = v->to_number<double>();
    if (!(d >= min && d <= max)) {
      return Error(StrCat(path, ".", key), StrCat("must be between ", min, " and ", max));
    }
    return d;
  }

  static Result<Align> ParseAlign(const json::object& o, const std::string& path) {
    const json::value* v = o.if_contains("align");
    if (v == nullptr) return Align::kLeft;
    if (v->is_string()) {
      if (v->get_string() == "left") return Align::kLeft;
      if (v->get_string() == "center") return Align::kCenter;
      if (v->get_string() == "right") return Align::kRight;
    }
    return Error(StrCat(path, ".align"), "expected left, center or right");
  }

 private:
  Result<LayoutBlock> Block(const json::value& v, const std::string& path, int depth) {
    const json::object* o = v.if_object();
    if (o == nullptr) return Error(path, "expected an object");
    const json::value* type = o->if_contains("type");
    if (type == nullptr || !type->is_string()) return Error(path + ".type", "required string");
    const std::string_view t = type->get_string();
    LayoutBlock b;
    using K = LayoutBlock::Kind;
    static const std::pair<std::string_view, K> kKinds[] = {
        {"heading", K::kHeading}, {"text", K::kText}, {"fields", K::kFields},
        {"table", K::kTable},     {"qr", K::kQr},     {"image", K::kImage},
        {"link", K::kLink},       {"rule", K::kRule}, {"spacer", K::kSpacer},
        {"columns", K::kColumns}};
    bool known = false;
    for (const auto& [name, kind] : kKinds) {
      if (name == t) {
        b.kind = kind;
        known = true;
      }
    }
    if (!known) {
      return Error(path + ".type", StrCat("unknown block type '", t,
                                          "' (heading, text, fields, table, qr, image, link, "
                                          "rule, spacer, columns)"));
    }
    if (const json::value* when = o->if_contains("when")) {
      if (!when->is_string() || when->get_string().empty()) {
        return Error(path + ".when", "expected a path such as invoice.paid");
      }
      const std::string_view name = when->get_string();
      Result<core::Template> w = core::Template::Compile(StrCat("{{#", name, "}}1{{/", name, "}}"));
      if (!w.ok()) return Error(path + ".when", ToStd(w.status().message()));
      b.when = std::move(*w);
    }
    HERALD_ASSIGN_OR_RETURN(b.align, ParseAlign(*o, path));
    HERALD_ASSIGN_OR_RETURN(b.bold, Bool(*o, "bold", path, b.kind == K::kHeading));
    HERALD_ASSIGN_OR_RETURN(b.size, Number(*o, "size", path, b.kind == K::kHeading ? 18 : 10, 4,
                                           b.kind == K::kQr ? 600 : 96));
    if (const json::value* color = o->if_contains("color")) {
      Result<Rgb> rgb = color->is_string() ? ParseRgb(color->get_string())
                                           : absl::InvalidArgumentError("expected #rrggbb");
      if (!rgb.ok()) return Error(path + ".color", ToStd(rgb.status().message()));
      b.color = *rgb;
    }
    switch (b.kind) {
      case K::kHeading:
      case K::kText: {
        HERALD_ASSIGN_OR_RETURN(b.text, Compile(*o, "text", path, true));
        break;
      }
      case K::kLink: {
        HERALD_ASSIGN_OR_RETURN(b.text, Compile(*o, "text", path, true));
        HERALD_ASSIGN_OR_RETURN(b.url, Compile(*o, "url", path, true));
        if (o->if_contains("color") == nullptr) b.color = {0.08, 0.4, 0.75};
        break;
      }
      case K::kFields: {
        HERALD_ASSIGN_OR_RETURN(b.label_width, Number(*o, "labelWidth", path, 120, 10, 1000));
        const json::value* items = o->if_contains("items");
        if (items == nullptr || !items->is_array()) {
          return Error(path + ".items", "expected an array of {label, value}");
        }
        for (size_t i = 0; i < items->get_array().size(); ++i) {
          const std::string p = StrCat(path, ".items[", i, "]");
          const json::object* item = items->get_array()[i].if_object();
          if (item == nullptr) return Error(p, "expected {label, value}");
          LayoutBlock::Field f;
          HERALD_ASSIGN_OR_RETURN(f.label, Compile(*item, "label", p, true));
          HERALD_ASSIGN_OR_RETURN(f.value, Compile(*item, "value", p, true));
          b.fields.push_back(std::move(f));
        }
        break;
      }
      case K::kTable: {
        const json::value* rows = o->if_contains("rows");
        if (rows == nullptr || !rows->is_string() || rows->get_string().empty()) {
          return Error(path + ".rows", "expected the path of an array, such as invoice.items");
        }
        for (absl::string_view part : absl::StrSplit(ToAbsl(rows->get_string()), '.')) {
          if (part.empty()) return Error(path + ".rows", "empty segment in the path");
          b.rows.emplace_back(ToStd(part));
        }
        const json::value* columns = o->if_contains("columns");
        if (columns == nullptr || !columns->is_array() || columns->get_array().empty() ||
            columns->get_array().size() > 20) {
          return Error(path + ".columns", "expected an array of 1 to 20 columns");
        }
        for (size_t i = 0; i < columns->get_array().size(); ++i) {
          const std::string p = StrCat(path, ".columns[", i, "]");
          const json::object* col = columns->get_array()[i].if_object();
          if (col == nullptr) return Error(p, "expected {header, value}");
          LayoutBlock::Column c;
          HERALD_ASSIGN_OR_RETURN(c.header, Compile(*col, "header", p, false));
          HERALD_ASSIGN_OR_RETURN(c.value, Compile(*col, "value", p, true));
          HERALD_ASSIGN_OR_RETURN(c.weight, Number(*col, "width", p, 1, 0.1, 100));
          HERALD_ASSIGN_OR_RETURN(c.align, ParseAlign(*col, p));
          b.columns.push_back(std::move(c));
        }
        break;
      }
      case K::kQr: {
        HERALD_ASSIGN_OR_RETURN(b.text, Compile(*o, "value", path, true));
        HERALD_ASSIGN_OR_RETURN(b.size, Number(*o, "size", path, 140, 40, 600));
        if (const json::value* ec = o->if_contains("ec")) {
          Result<QrErrorCorrection> level =
              ec->is_string() ? ParseQrErrorCorrection(ec->get_string())
                              : absl::InvalidArgumentError("expected L, M, Q or H");
          if (!level.ok()) return Error(path + ".ec", ToStd(level.status().message()));
          b.ec = *level;
        }
        break;
      }
      case K::kImage: {
        const json::value* image = o->if_contains("image");
        if (image == nullptr || !image->is_string() || image->get_string().empty()) {
          return Error(path + ".image", "expected the name of an image, such as logo");
        }
        b.image = std::string(image->get_string());
        HERALD_ASSIGN_OR_RETURN(b.width, Number(*o, "width", path, 120, 4, 2000));
        HERALD_ASSIGN_OR_RETURN(b.height, Number(*o, "height", path, 0, 0, 2000));
        break;
      }
      case K::kSpacer: {
        HERALD_ASSIGN_OR_RETURN(b.height, Number(*o, "height", path, 12, 0, 2000));
        break;
      }
      case K::kRule:
        break;
      case K::kColumns: {
        if (depth >= kMaxColumnsDepth) return Error(path, "columns nest at most 4 deep");
        const json::value* columns = o->if_contains("columns");
        if (columns == nullptr || !columns->is_array() || columns->get_array().empty() ||
            columns->get_array().size() > 6) {
          return Error(path + ".columns", "expected an array of 1 to 6 arrays of blocks");
        }
        const size_t n = columns->get_array().size();
        b.weights.assign(n, 1);
        if (const json::value* widths = o->if_contains("widths")) {
          if (!widths->is_array() || widths->get_array().size() != n) {
            return Error(path + ".widths", "expected one number per column");
          }
          for (size_t i = 0; i < n; ++i) {
            const json::value& w = widths->get_array()[i];
            if (!w.is_number() || !(w.to_number<double>() > 0)) {
              return Error(StrCat(path, ".widths[", i, "]"), "expected a positive number");
            }
            b.weights[i] = w.to_number<double>();
          }
        }
        HERALD_ASSIGN_OR_RETURN(b.gap, Number(*o, "gap", path, 16, 0, 500));
        for (size_t i = 0; i < n; ++i) {
          HERALD_ASSIGN_OR_RETURN(
              std::vector<LayoutBlock> child,
              Blocks(columns->get_array()[i], StrCat(path, ".columns[", i, "]"), depth + 1));
          b.children.push_back(std::move(child));
        }
        break;
      }
    }
    return b;
  }

  static Result<bool> Bool(const json::object& o, std::string_view key, const std::string& path,
                           bool fallback) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return fallback;
    if (!v->is_bool()) return Error(StrCat(path, ".", key), "expected true or false");
    return v->get_bool();
  }

  int count_ = 0;
};

// ---- Rendering ------------------------------------------------------------------------------

Result<std::string> Fill(const core::Template& t, const json::value& data) {
  core::RenderOptions options;
  options.html_escape = false;
  options.max_output_bytes = 256 * 1024;
  HERALD_ASSIGN_OR_RETURN(core::RenderResult r, core::Render(t, data, {}, options));
  return std::move(r.text);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Width and height of a PNG from its header, or {0, 0}.
std::pair<double, double> PngSize(std::string_view png) {
  if (png.size() < 24) return {0, 0};
  const auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<uint8_t>(png[at + k]);
    return v;
  };
  return {static_cast<double>(be32(16)), static_cast<double>(be32(20))};
}

class Renderer {
 public:
  Renderer(PdfCanvas& canvas, PageSize page, double margin, bool border, const ImageSet& images)
      : c_(canvas), page_(page), margin_(margin), border_(border), images_(images) {}

  Status Start() { return NewPage(); }

  Status NewPage() {
    HERALD_RETURN_IF_ERROR(c_.NewPage(page_));
    if (border_) {
      if (!dry_)
        c_.StrokeRect(margin_ / 2, margin_ / 2, page_.width - margin_, page_.height - margin_, 0.8,
                      kGrey);
    }
    y_ = margin_;
    return absl::OkStatus();
  }

  double top() const { return margin_; }
  double bottom() const { return page_.height - margin_ - (footer_.empty() ? 0 : 16); }
  double y() const { return y_; }

  void SetFooter(std::string footer) { footer_ = std::move(footer); }
  void DrawFooter() {
    if (footer_.empty()) return;
    const double baseline = page_.height - margin_ - 3;
    if (!dry_) c_.Text(margin_, baseline, footer_, FontStyle::kRegular, 8, kGrey);
    const std::string number = StrCat(c_.page_count());
    if (!dry_)
      c_.Text(page_.width - margin_ - c_.TextWidth(number, FontStyle::kRegular, 8), baseline,
              number, FontStyle::kRegular, 8, kGrey);
  }

  // Lays out `blocks` in [x, x + width) from the current y; may_break: new pages allowed.
  Status Blocks(const std::vector<LayoutBlock>& blocks, const json::value& data, double x,
                double width, bool may_break) {
    for (const LayoutBlock& b : blocks) {
      if (b.when.has_value()) {
        HERALD_ASSIGN_OR_RETURN(std::string on, Fill(*b.when, data));
        if (on.empty()) continue;
      }
      HERALD_RETURN_IF_ERROR(Block(b, data, x, width, may_break));
    }
    return absl::OkStatus();
  }

 private:
  using K = LayoutBlock::Kind;

  // Makes room for `height`: a new page when it does not fit and we are not at the top.
  Status Room(double height, bool may_break) {
    if (may_break && y_ + height > bottom() && y_ > top() + 0.5) {
      DrawFooter();
      return NewPage();
    }
    return absl::OkStatus();
  }

  std::vector<std::string> Wrap(std::string_view text, double width, FontStyle style, double size) {
    std::vector<std::string> lines;
    const double space = c_.TextWidth(" ", style, size);
    for (absl::string_view paragraph : absl::StrSplit(ToAbsl(text), '\n')) {
      std::string line;
      double line_width = 0;
      for (absl::string_view word_view : absl::StrSplit(paragraph, ' ', absl::SkipEmpty())) {
        const std::string_view word = ToStd(word_view);
        double w = c_.TextWidth(word, style, size);
        if (w > width) {  // a word longer than the line: cut it where it overflows
          if (!line.empty()) lines.push_back(std::move(line));
          line.clear();
          std::string piece;
          for (size_t i = 0; i < word.size();) {
            size_t n = 1;
            while (i + n < word.size() && (static_cast<uint8_t>(word[i + n]) & 0xC0) == 0x80) ++n;
            std::string next = piece + std::string(word.substr(i, n));
            if (!piece.empty() && c_.TextWidth(next, style, size) > width) {
              lines.push_back(std::move(piece));
              piece = std::string(word.substr(i, n));
            } else {
              piece = std::move(next);
            }
            i += n;
          }
          line = std::move(piece);
          line_width = c_.TextWidth(line, style, size);
          continue;
        }
        if (line.empty()) {
          line = std::string(word);
          line_width = w;
        } else if (line_width + space + w <= width) {
          line += ' ';
          line += word;
          line_width += space + w;
        } else {
          lines.push_back(std::move(line));
          line = std::string(word);
          line_width = w;
        }
      }
      lines.push_back(std::move(line));
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
  }

  double AlignedX(double x, double width, double w, Align align) const {
    switch (align) {
      case Align::kCenter:
        return x + (width - w) / 2;
      case Align::kRight:
        return x + width - w;
      default:
        return x;
    }
  }

  Status Paragraph(std::string_view text, double x, double width, FontStyle style, double size,
                   Rgb color, Align align, bool may_break) {
    const double line_height = size * kLineSpacing;
    for (const std::string& line : Wrap(text, width, style, size)) {
      HERALD_RETURN_IF_ERROR(Room(line_height, may_break));
      const double w = align == Align::kLeft ? 0 : c_.TextWidth(line, style, size);
      if (!dry_) c_.Text(AlignedX(x, width, w, align), y_ + size, line, style, size, color);
      y_ += line_height;
    }
    return absl::OkStatus();
  }

  Status Block(const LayoutBlock& b, const json::value& data, double x, double width,
               bool may_break) {
    const FontStyle style = b.bold ? FontStyle::kBold : FontStyle::kRegular;
    switch (b.kind) {
      case K::kHeading:
      case K::kText: {
        HERALD_ASSIGN_OR_RETURN(std::string text, Fill(b.text, data));
        if (Trim(text).empty()) return absl::OkStatus();
        HERALD_RETURN_IF_ERROR(
            Paragraph(text, x, width, style, b.size, b.color, b.align, may_break));
        y_ += b.kind == K::kHeading ? kBlockGap : kBlockGap / 2;
        return absl::OkStatus();
      }
      case K::kFields: {
        const double value_width = std::max(20.0, width - b.label_width);
        for (const LayoutBlock::Field& f : b.fields) {
          HERALD_ASSIGN_OR_RETURN(std::string value, Fill(f.value, data));
          if (Trim(value).empty()) continue;
          HERALD_ASSIGN_OR_RETURN(std::string label, Fill(f.label, data));
          const std::vector<std::string> lines =
              Wrap(Trim(value), value_width, FontStyle::kRegular, b.size);
          const double line_height = b.size * kLineSpacing;
          HERALD_RETURN_IF_ERROR(Room(line_height, may_break));
          if (!dry_) c_.Text(x, y_ + b.size, label, FontStyle::kBold, b.size, kGrey);
          for (size_t i = 0; i < lines.size(); ++i) {
            if (i > 0) HERALD_RETURN_IF_ERROR(Room(line_height, may_break));
            if (!dry_)
              c_.Text(x + b.label_width, y_ + b.size, lines[i], FontStyle::kRegular, b.size,
                      b.color);
            y_ += line_height;
          }
        }
        y_ += kBlockGap;
        return absl::OkStatus();
      }
      case K::kTable:
        return Table(b, data, x, width, may_break);
      case K::kQr: {
        HERALD_ASSIGN_OR_RETURN(std::string value, Fill(b.text, data));
        if (value.empty()) return absl::InvalidArgumentError("QR code: the value is empty");
        Result<QrCode> code = QrCode::Encode(value, b.ec);
        if (!code.ok())
          return absl::InvalidArgumentError(StrCat("QR code: ", ToStd(code.status().message())));
        const double side = std::min(b.size, width);
        HERALD_RETURN_IF_ERROR(Room(side, may_break));
        if (!dry_) c_.Qr(*code, AlignedX(x, width, side, b.align), y_, side);
        y_ += side + kBlockGap;
        return absl::OkStatus();
      }
      case K::kImage: {
        auto it = images_.find(b.image);
        if (it == images_.end()) return absl::OkStatus();  // optional: no such image configured
        const auto [px_w, px_h] = PngSize(it->second);
        const double w = std::min(b.width, width);
        const double h = b.height > 0 ? b.height : (px_w > 0 ? w * px_h / px_w : w);
        HERALD_RETURN_IF_ERROR(Room(h, may_break));
        if (!dry_) {
          HERALD_RETURN_IF_ERROR(c_.Png(it->second, AlignedX(x, width, w, b.align), y_, w, h));
        }
        y_ += h + kBlockGap;
        return absl::OkStatus();
      }
      case K::kLink: {
        HERALD_ASSIGN_OR_RETURN(std::string text, Fill(b.text, data));
        HERALD_ASSIGN_OR_RETURN(std::string url, Fill(b.url, data));
        if (Trim(url).empty()) return absl::OkStatus();
        const double size = b.size;
        HERALD_RETURN_IF_ERROR(Room(size * 2 + 14, may_break));
        const double w = c_.TextWidth(text, FontStyle::kBold, size) + 16;
        const double bx = AlignedX(x, width, w, b.align);
        if (!dry_) c_.FillRect(bx, y_, w, size + 10, b.color);
        if (!dry_) c_.Text(bx + 8, y_ + 5 + size * 0.85, text, FontStyle::kBold, size, {1, 1, 1});
        if (!dry_) c_.Link(bx, y_, w, size + 10, Trim(url));
        y_ += size + 14;
        // The address in print too, for a paper copy.
        HERALD_RETURN_IF_ERROR(
            Paragraph(Trim(url), x, width, FontStyle::kRegular, 7, kGrey, b.align, may_break));
        y_ += kBlockGap;
        return absl::OkStatus();
      }
      case K::kRule:
        HERALD_RETURN_IF_ERROR(Room(8, may_break));
        if (!dry_) c_.Line(x, y_ + 3, x + width, y_ + 3, 0.6, kLightGrey);
        y_ += 8;
        return absl::OkStatus();
      case K::kSpacer:
        y_ += b.height;
        return absl::OkStatus();
      case K::kColumns: {
        // Measure, then keep the row of columns on one page (at the top of a page there is
        // nothing to gain).
        if (may_break && !dry_ && y_ > top() + 0.5) {
          const double start = y_;
          dry_ = true;
          Status measured = Block(b, data, x, width, false);
          dry_ = false;
          const double height = y_ - start;
          y_ = start;
          HERALD_RETURN_IF_ERROR(measured);
          HERALD_RETURN_IF_ERROR(Room(height, true));
        }
        double total = 0;
        for (double w : b.weights) total += w;
        const double usable = width - b.gap * (b.weights.size() - 1);
        const double start = y_;
        double end = y_;
        double cx = x;
        for (size_t i = 0; i < b.children.size(); ++i) {
          const double w = usable * b.weights[i] / total;
          y_ = start;
          HERALD_RETURN_IF_ERROR(Blocks(b.children[i], data, cx, w, false));
          end = std::max(end, y_);
          cx += w + b.gap;
        }
        y_ = end;
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  Status Table(const LayoutBlock& b, const json::value& data, double x, double width,
               bool may_break) {
    const json::value* rows = &data;
    for (const std::string& part : b.rows) {
      const json::object* o = rows->if_object();
      rows = o == nullptr ? nullptr : o->if_contains(part);
      if (rows == nullptr) break;
    }
    if (rows == nullptr || rows->is_null()) return absl::OkStatus();  // nothing to list
    if (!rows->is_array()) {
      return absl::InvalidArgumentError(
          StrCat(absl::StrJoin(b.rows, "."), ": expected an array for the table"));
    }
    double total = 0;
    for (const auto& col : b.columns) total += col.weight;
    std::vector<double> widths;
    for (const auto& col : b.columns) widths.push_back(width * col.weight / total);
    const double line_height = b.size * kLineSpacing;

    const auto header = [&]() -> Status {
      const double h = line_height + 2 * kCellPadding;
      HERALD_RETURN_IF_ERROR(Room(h * 2, may_break));
      if (!dry_) c_.FillRect(x, y_, width, h, kHeaderFill);
      double cx = x;
      for (size_t i = 0; i < b.columns.size(); ++i) {
        HERALD_ASSIGN_OR_RETURN(const std::string text, Fill(b.columns[i].header, data));
        const double inner = widths[i] - 2 * kCellPadding;
        const double w = c_.TextWidth(text, FontStyle::kBold, b.size);
        if (!dry_)
          c_.Text(AlignedX(cx + kCellPadding, inner, w, b.columns[i].align),
                  y_ + kCellPadding + b.size, text, FontStyle::kBold, b.size, {});
        cx += widths[i];
      }
      y_ += h;
      return absl::OkStatus();
    };
    HERALD_RETURN_IF_ERROR(header());
    for (const json::value& row : rows->get_array()) {
      std::vector<std::vector<std::string>> cells;
      size_t max_lines = 1;
      for (size_t i = 0; i < b.columns.size(); ++i) {
        HERALD_ASSIGN_OR_RETURN(std::string text, Fill(b.columns[i].value, row));
        cells.push_back(
            Wrap(Trim(text), widths[i] - 2 * kCellPadding, FontStyle::kRegular, b.size));
        max_lines = std::max(max_lines, cells.back().size());
      }
      const double h = max_lines * line_height + 2 * kCellPadding;
      if (may_break && y_ + h > bottom()) {
        DrawFooter();
        HERALD_RETURN_IF_ERROR(NewPage());
        HERALD_RETURN_IF_ERROR(header());
      }
      double cx = x;
      for (size_t i = 0; i < cells.size(); ++i) {
        const double inner = widths[i] - 2 * kCellPadding;
        for (size_t l = 0; l < cells[i].size(); ++l) {
          const double w = b.columns[i].align == Align::kLeft
                               ? 0
                               : c_.TextWidth(cells[i][l], FontStyle::kRegular, b.size);
          if (!dry_)
            c_.Text(AlignedX(cx + kCellPadding, inner, w, b.columns[i].align),
                    y_ + kCellPadding + b.size + l * line_height, cells[i][l], FontStyle::kRegular,
                    b.size, b.color);
        }
        cx += widths[i];
      }
      y_ += h;
      if (!dry_) c_.Line(x, y_, x + width, y_, 0.4, kLightGrey);
    }
    y_ += kBlockGap;
    return absl::OkStatus();
  }

  // Draws unless measuring (dry_): a "columns" block is laid out once without drawing to learn
  // its height, so it moves to a new page whole instead of running off the bottom.
  PdfCanvas& c_;
  bool dry_ = false;
  const PageSize page_;
  const double margin_;
  const bool border_;
  const ImageSet& images_;
  std::string footer_;
  double y_ = 0;
};

}  // namespace

Result<DocTemplate> DocTemplate::Parse(const json::value& description) {
  const json::object* o = description.if_object();
  if (o == nullptr) return absl::InvalidArgumentError("template: expected an object");
  for (const auto& [key, value] : *o) {
    static const std::string_view kKnown[] = {"page",   "margin", "border",     "footer",
                                              "blocks", "name",   "description"};
    if (std::find(std::begin(kKnown), std::end(kKnown), std::string_view(key)) ==
        std::end(kKnown)) {
      return absl::InvalidArgumentError(StrCat("template: unknown field '", key, "'"));
    }
  }
  DocTemplate t;
  if (const json::value* page = o->if_contains("page")) {
    if (page->is_string()) {
      const std::string_view name = page->get_string();
      if (name == "A4") {
        t.page_ = kA4;
      } else if (name == "A5") {
        t.page_ = kA5;
      } else if (name == "ticket") {
        t.page_ = kTicketPage;
      } else {
        return absl::InvalidArgumentError("page: expected A4, A5, ticket or {width, height}");
      }
    } else if (const json::object* size = page->if_object()) {
      if (size->if_contains("width") == nullptr || size->if_contains("height") == nullptr) {
        return absl::InvalidArgumentError("page: expected A4, A5, ticket or {width, height}");
      }
      HERALD_ASSIGN_OR_RETURN(t.page_.width, Parser::Number(*size, "width", "page", 0, 72, 5000));
      HERALD_ASSIGN_OR_RETURN(t.page_.height, Parser::Number(*size, "height", "page", 0, 72, 5000));
    } else {
      return absl::InvalidArgumentError("page: expected A4, A5, ticket or {width, height}");
    }
  }
  HERALD_ASSIGN_OR_RETURN(t.margin_, Parser::Number(*o, "margin", "template", 40, 0,
                                                    std::min(t.page_.width, t.page_.height) / 4));
  if (const json::value* border = o->if_contains("border")) {
    if (!border->is_bool()) return absl::InvalidArgumentError("border: expected true or false");
    t.border_ = border->get_bool();
  }
  if (o->if_contains("footer") != nullptr) {
    auto footer = std::make_shared<LayoutBlock>();
    HERALD_ASSIGN_OR_RETURN(footer->text, Parser::Compile(*o, "footer", "template", true));
    t.footer_ = std::move(footer);
  }
  const json::value* blocks = o->if_contains("blocks");
  if (blocks == nullptr) return absl::InvalidArgumentError("blocks: required");
  Parser parser;
  HERALD_ASSIGN_OR_RETURN(std::vector<LayoutBlock> parsed, parser.Blocks(*blocks, "blocks", 0));
  t.blocks_ = std::make_shared<const std::vector<LayoutBlock>>(std::move(parsed));
  return t;
}

Result<std::string> DocTemplate::Render(PdfEngine& engine, const json::value& data,
                                        const PdfInfo& info, const ImageSet& images) const {
  return engine.Render(info, [&](PdfCanvas& canvas) -> Status {
    Renderer r(canvas, page_, margin_, border_, images);
    if (footer_ != nullptr) {
      HERALD_ASSIGN_OR_RETURN(std::string footer, Fill(footer_->text, data));
      r.SetFooter(std::string(Trim(footer)));
    }
    HERALD_RETURN_IF_ERROR(r.Start());
    HERALD_RETURN_IF_ERROR(
        r.Blocks(*blocks_, data, r.top(), page_.width - 2 * r.top(), /*may_break=*/true));
    r.DrawFooter();
    return absl::OkStatus();
  });
}

}  // namespace herald::docs
