#pragma once
// DocTemplate: a document described in JSON (a page format and a list of blocks) and filled
// from JSON data, so a document kind is data, not code placing text by hand. Every string in
// a block is a Mustache template (core/mustache.h, without HTML escaping) rendered against the
// data; a block with "when": "path" is drawn only when that value is truthy (Mustache's
// section rule). Blocks flow down the page and continue on a new page when they do not fit;
// table rows repeat the header on each page.
//
//   {"page": "A4" | "A5" | "ticket" | {"width": pt, "height": pt}, "margin": 40,
//    "border": false, "footer": "text at the foot of every page, the page number on its right",
//    "blocks": [
//      {"type": "heading", "text": "...", "size": 20, "color": "#1a1a1a", "align": "left"},
//      {"type": "text", "text": "...", "size": 10, "bold": false, "color": ..., "align": ...},
//      {"type": "fields", "labelWidth": 120, "size": 10,
//       "items": [{"label": "Date", "value": "{{event.date}}"}]},      (empty values skipped)
//      {"type": "table", "rows": "invoice.items", "size": 9,              (a path to an array)
//       "columns": [{"header": "Article", "value": "{{description}}", "width": 3,
//                    "align": "left"}]},                   (row values see the row's fields)
//      {"type": "qr", "value": "{{ticket.code}}", "size": 150, "align": "right", "ec": "M"},
//      {"type": "image", "image": "logo", "width": 120, "height": 40, "align": "left"},
//      {"type": "link", "text": "Accepter", "url": "{{acceptUrl}}", "color": "#1e7d32"},
//      {"type": "rule"}, {"type": "spacer", "height": 12},
//      {"type": "columns", "widths": [2, 1], "gap": 16, "columns": [[blocks], [blocks]]}]}
//
// Parse checks everything and names the offending place ("blocks[2].columns[0].value: ...").
// Limits: kMaxTemplateBlocks blocks in all, nesting of "columns" at most 4 deep.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "boost/json/value.hpp"
#include "core/status.h"
#include "docs/pdf.h"

namespace herald::docs {

inline constexpr int kMaxTemplateBlocks = 500;

struct LayoutBlock;  // layout.cc

// Images a template may name ("logo"), as PNG bytes.
using ImageSet = std::map<std::string, std::string, std::less<>>;

class DocTemplate {
 public:
  static Result<DocTemplate> Parse(const boost::json::value& description);

  // Draws the document for `data`. InvalidArgument for data the template cannot use (a QR
  // value that is empty or too long, an image that is not a PNG, a "rows" value that is not an
  // array), ResourceExhausted past kMaxPdfPages.
  Result<std::string> Render(PdfEngine& engine, const boost::json::value& data, const PdfInfo& info,
                             const ImageSet& images = {}) const;

  PageSize page() const { return page_; }

 private:
  DocTemplate() = default;

  PageSize page_ = kA4;
  double margin_ = 40;
  bool border_ = false;
  std::shared_ptr<const LayoutBlock> footer_;
  std::shared_ptr<const std::vector<LayoutBlock>> blocks_;
};

}  // namespace herald::docs
