#include "docs/layout.h"

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "boost/json.hpp"
#include "core/strings.h"
#include "docs/qr.h"
#include "docs/testing/pdf_checks.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::docs {
namespace {

namespace json = boost::json;
using ::herald::docs::testing::Count;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

Result<DocTemplate> ParseText(std::string_view description) {
  return DocTemplate::Parse(json::parse(description));
}

// The message of the InvalidArgument that parsing `description` must give.
std::string ParseError(std::string_view description) {
  Result<DocTemplate> t = ParseText(description);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << description;
  return Message(t.status());
}

std::string WithoutSpaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\n' && c != '\f' && c != '\r') out += c;
  }
  return out;
}

class DocTemplateTest : public ::testing::Test, protected testing::PdfChecks {
 protected:
  static void SetUpTestSuite() {
    auto engine = PdfEngine::Create();
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine).release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }

  // Parses `description`, renders it for `data` and checks the PDF with qpdf.
  Result<std::string> Render(std::string_view description, std::string_view data,
                             const ImageSet& images = {}) {
    Result<DocTemplate> t = ParseText(description);
    if (!t.ok()) return t.status();
    Result<std::string> pdf = t->Render(*engine_, json::parse(data), {.title = "Test"}, images);
    if (pdf.ok()) ExpectQpdfClean(*pdf);
    return pdf;
  }

  static PdfEngine* engine_;
};

PdfEngine* DocTemplateTest::engine_ = nullptr;

// ---- Parsing --------------------------------------------------------------------------------

TEST(DocTemplateParseTest, AcceptsEveryBlockType) {
  auto t = ParseText(R"({
    "name": "all", "description": "every block", "page": "A5", "margin": 30, "border": true,
    "footer": "{{title}}",
    "blocks": [
      {"type": "heading", "text": "{{title}}", "size": 20, "color": "#1a1a1a", "align": "center"},
      {"type": "text", "text": "t", "bold": true, "align": "right"},
      {"type": "fields", "labelWidth": 80, "items": [{"label": "A", "value": "{{a}}"}]},
      {"type": "table", "rows": "x.items", "columns": [{"header": "H", "value": "{{v}}",
                                                        "width": 2, "align": "right"}]},
      {"type": "qr", "value": "{{code}}", "size": 100, "ec": "q"},
      {"type": "image", "image": "logo", "width": 50, "height": 20},
      {"type": "link", "text": "Go", "url": "{{url}}"},
      {"type": "rule"}, {"type": "spacer", "height": 4},
      {"type": "columns", "widths": [2, 1], "gap": 10, "columns": [[{"type": "rule"}], []]}
    ]})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_DOUBLE_EQ(t->page().width, kA5.width);
  EXPECT_DOUBLE_EQ(t->page().height, kA5.height);
  EXPECT_TRUE(ParseText(R"({"page": "ticket", "blocks": []})").ok());
  auto custom = ParseText(R"({"page": {"width": 300, "height": 200}, "blocks": []})");
  ASSERT_TRUE(custom.ok()) << custom.status();
  EXPECT_DOUBLE_EQ(custom->page().width, 300);
}

TEST(DocTemplateParseTest, ErrorsNameThePlace) {
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "text", "text": "a"}, {"type": "texte"}]})"),
            "blocks[1].type: unknown block type 'texte' (heading, text, fields, table, qr, "
            "image, link, rule, spacer, columns)");
  EXPECT_EQ(ParseError(R"({"blocks": [{"text": "a"}]})"), "blocks[0].type: required string");
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "text"}]})"), "blocks[0].text: required");
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "heading", "text": 3}]})"),
            "blocks[0].text: expected a string");
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "text", "text": "a", "align": "middle"}]})"),
            "blocks[0].align: expected left, center or right");
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "text", "text": "a", "color": "#12345"}]})"),
              StartsWith("blocks[0].color: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "text", "text": "a", "color": 255}]})"),
              StartsWith("blocks[0].color: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "rule", "when": ""}]})"),
              StartsWith("blocks[0].when: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "rule", "when": true}]})"),
              StartsWith("blocks[0].when: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "rule", "when": "a b"}]})"),
              StartsWith("blocks[0].when: "));
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "text", "text": "a", "size": 200}]})"),
            "blocks[0].size: must be between 4 and 96");
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "text", "text": "a", "bold": "yes"}]})"),
            "blocks[0].bold: expected true or false");
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "fields", "items": [
                           {"label": "A", "value": "a"}, {"label": "B"}]}]})"),
            "blocks[0].items[1].value: required");
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "fields"}]})"), StartsWith("blocks[0].items: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "qr", "value": "x", "ec": "Z"}]})"),
              StartsWith("blocks[0].ec: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "qr"}]})"), StartsWith("blocks[0].value: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "image"}]})"), StartsWith("blocks[0].image: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "link", "text": "x"}]})"),
              StartsWith("blocks[0].url: "));
  EXPECT_THAT(ParseError(R"({"blocks": ["text"]})"), StartsWith("blocks[0]: "));
  EXPECT_THAT(ParseError(R"({"blocks": {"type": "text"}})"), StartsWith("blocks: "));
  EXPECT_THAT(ParseError(R"({"page": "A4"})"), StartsWith("blocks: "));
  EXPECT_THAT(ParseError(R"([])"), StartsWith("template: "));
}

TEST(DocTemplateParseTest, TablesNeedRowsAndColumns) {
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "table", "columns": [{"value": "x"}]}]})"),
              StartsWith("blocks[0].rows: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "table", "rows": "a..b",
                                         "columns": [{"value": "x"}]}]})"),
              StartsWith("blocks[0].rows: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "table", "rows": "items"}]})"),
              StartsWith("blocks[0].columns: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "table", "rows": "items", "columns": []}]})"),
              StartsWith("blocks[0].columns: "));
  EXPECT_EQ(ParseError(R"({"blocks": [{"type": "table", "rows": "items",
                                       "columns": [{"value": "x"}, {"header": "H"}]}]})"),
            "blocks[0].columns[1].value: required");
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "table", "rows": "items",
                                         "columns": [{"value": "{{/x}}"}]}]})"),
              StartsWith("blocks[0].columns[0].value: line 1, column "));
}

TEST(DocTemplateParseTest, TopLevelFieldsAreChecked) {
  EXPECT_EQ(ParseError(R"({"colour": "red", "blocks": []})"), "template: unknown field 'colour'");
  EXPECT_THAT(ParseError(R"({"page": "Letter", "blocks": []})"), StartsWith("page: "));
  EXPECT_THAT(ParseError(R"({"page": 4, "blocks": []})"), StartsWith("page: "));
  EXPECT_THAT(ParseError(R"({"page": {"width": 10, "height": 300}, "blocks": []})"),
              StartsWith("page.width: "));
  EXPECT_THAT(ParseError(R"({"page": {"width": 300, "height": 9000}, "blocks": []})"),
              StartsWith("page.height: "));
  // A4 allows margins up to a quarter of its width (148.82 pt).
  EXPECT_TRUE(ParseText(R"({"margin": 148, "blocks": []})").ok());
  EXPECT_THAT(ParseError(R"({"margin": 200, "blocks": []})"), StartsWith("template.margin: "));
  EXPECT_THAT(ParseError(R"({"margin": -1, "blocks": []})"), StartsWith("template.margin: "));
  EXPECT_THAT(ParseError(R"({"margin": "40", "blocks": []})"), StartsWith("template.margin: "));
  // The range follows the page: 40 is too much for a 100 pt square.
  EXPECT_THAT(ParseError(R"({"page": {"width": 100, "height": 100}, "margin": 40, "blocks": []})"),
              StartsWith("template.margin: "));
  EXPECT_THAT(ParseError(R"({"border": "yes", "blocks": []})"), StartsWith("border: "));
  EXPECT_THAT(ParseError(R"({"footer": "{{#a}}", "blocks": []})"), StartsWith("template.footer: "));
}

TEST(DocTemplateParseTest, PageObjectNeedsWidthAndHeight) {
  EXPECT_THAT(ParseError(R"({"page": {}, "blocks": []})"), StartsWith("page"));
  EXPECT_THAT(ParseError(R"({"page": {"width": 300}, "blocks": []})"), StartsWith("page"));
  EXPECT_THAT(ParseError(R"({"page": {"height": 300}, "blocks": []})"), StartsWith("page"));
  EXPECT_THAT(ParseError(R"({"page": {"width": "300", "height": 300}, "blocks": []})"),
              StartsWith("page.width: "));
}

// A columns block whose every first column holds the next one, `depth` levels in all.
std::string NestedColumns(int depth, std::string_view innermost) {
  std::string blocks = StrCat("[", innermost, "]");
  for (int i = 0; i < depth; ++i) {
    blocks = StrCat(R"([{"type": "columns", "columns": [)", blocks, R"(, []]}])");
  }
  return StrCat(R"({"blocks": )", blocks, "}");
}

TEST(DocTemplateParseTest, ColumnsNestAtMostFourDeep) {
  EXPECT_TRUE(ParseText(NestedColumns(4, R"({"type": "text", "text": "deep"})")).ok());
  EXPECT_EQ(ParseError(NestedColumns(5, R"({"type": "text", "text": "deep"})")),
            "blocks[0].columns[0][0].columns[0][0].columns[0][0].columns[0][0]: "
            "columns nest at most 4 deep");
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "columns", "columns": []}]})"),
              StartsWith("blocks[0].columns: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "columns", "columns": [[], [], [], [], [], [],
                                                                        []]}]})"),
              StartsWith("blocks[0].columns: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "columns", "widths": [1],
                                         "columns": [[], []]}]})"),
              StartsWith("blocks[0].widths: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "columns", "widths": [1, 0],
                                         "columns": [[], []]}]})"),
              StartsWith("blocks[0].widths[1]: "));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "columns", "columns": [[], "x"]}]})"),
              StartsWith("blocks[0].columns[1]: "));
}

TEST(DocTemplateParseTest, MustacheErrorInANestedColumnNamesThePath) {
  const std::string message = ParseError(R"({"blocks": [{"type": "columns", "columns": [
      [{"type": "text", "text": "fine {{a}}"}],
      [{"type": "text", "text": "{{#open}} never closed"}]]}]})");
  EXPECT_THAT(message, StartsWith("blocks[0].columns[1][0].text: line 1, column "));
  EXPECT_THAT(message, HasSubstr("open"));
  EXPECT_THAT(ParseError(R"({"blocks": [{"type": "columns", "columns": [[], [
      {"type": "fields", "items": [{"label": "{{a", "value": "b"}]}]]}]})"),
              StartsWith("blocks[0].columns[1][0].items[0].label: "));
}

TEST(DocTemplateParseTest, AtMostMaxTemplateBlocksInAll) {
  const auto blocks = [](int n) {
    std::vector<std::string> parts(n, R"({"type": "rule"})");
    return StrCat(R"({"blocks": [)", absl::StrJoin(parts, ","), "]}");
  };
  EXPECT_TRUE(ParseText(blocks(kMaxTemplateBlocks)).ok());
  EXPECT_THAT(ParseError(blocks(kMaxTemplateBlocks + 1)),
              HasSubstr("a template has at most 500 blocks"));
  // Blocks inside columns count too.
  std::vector<std::string> inner(kMaxTemplateBlocks, R"({"type": "rule"})");
  EXPECT_THAT(ParseError(StrCat(R"({"blocks": [{"type": "columns", "columns": [[)",
                                absl::StrJoin(inner, ","), "]]}]}")),
              HasSubstr("at most 500 blocks"));
}

// ---- Rendering ------------------------------------------------------------------------------

TEST_F(DocTemplateTest, AccentedTextComesOut) {
  auto pdf = Render(R"({"page": "A5", "blocks": [
      {"type": "heading", "text": "{{title}}"},
      {"type": "text", "text": "Lieu : {{place}}", "align": "center"},
      {"type": "text", "text": "Łódź — {{price}}", "align": "right"}]})",
                    R"({"title": "Été à l'Opéra « Garnier »",
                        "place": "Théâtre du Châtelet, façade", "price": "25 €"})");
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  EXPECT_THAT(text, HasSubstr("Été à l'Opéra « Garnier »"));
  EXPECT_THAT(text, HasSubstr("Lieu : Théâtre du Châtelet, façade"));
  EXPECT_THAT(text, HasSubstr("Łódź — 25 €"));
}

TEST_F(DocTemplateTest, WhenShowsTruthyValuesOnly) {
  auto pdf = Render(R"({"blocks": [
      {"type": "text", "when": "yes", "text": "SHOWN-TRUE"},
      {"type": "text", "when": "list", "text": "SHOWN-LIST"},
      {"type": "text", "when": "word", "text": "SHOWN-WORD"},
      {"type": "text", "when": "obj.inner", "text": "SHOWN-NESTED"},
      {"type": "text", "when": "zero", "text": "SHOWN-ZERO"},
      {"type": "text", "when": "no", "text": "HIDDEN-FALSE"},
      {"type": "text", "when": "missing", "text": "HIDDEN-MISSING"},
      {"type": "text", "when": "obj.absent", "text": "HIDDEN-NESTED"},
      {"type": "text", "when": "empty", "text": "HIDDEN-EMPTY"},
      {"type": "text", "when": "nothing", "text": "HIDDEN-NULL"},
      {"type": "rule", "when": "no"},
      {"type": "columns", "when": "no", "columns": [[{"type": "text", "text": "HIDDEN-COLS"}]]},
      {"type": "table", "when": "empty", "rows": "list",
       "columns": [{"header": "HIDDEN-TABLE", "value": "{{.}}"}]}]})",
                    R"({"yes": true, "list": [1, 2], "word": "oui", "obj": {"inner": true},
                        "zero": 0, "no": false, "empty": [], "nothing": null})");
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  for (const char* shown :
       {"SHOWN-TRUE", "SHOWN-LIST", "SHOWN-WORD", "SHOWN-NESTED", "SHOWN-ZERO"}) {
    EXPECT_THAT(text, HasSubstr(shown));
  }
  EXPECT_THAT(text, Not(HasSubstr("HIDDEN")));
}

TEST_F(DocTemplateTest, FieldsWithEmptyValuesAreSkipped) {
  auto pdf = Render(R"({"blocks": [{"type": "fields", "labelWidth": 100, "items": [
      {"label": "Prénom", "value": "{{first}}"},
      {"label": "Téléphone", "value": "{{phone}}"},
      {"label": "Courriel", "value": "  {{email}}  "},
      {"label": "Société", "value": "{{company.name}}"},
      {"label": "Ville", "value": "{{city}}"}]}]})",
                    R"({"first": "Amélie", "phone": "", "city": "Besançon"})");
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  EXPECT_THAT(text, HasSubstr("Prénom"));
  EXPECT_THAT(text, HasSubstr("Amélie"));
  EXPECT_THAT(text, HasSubstr("Ville"));
  EXPECT_THAT(text, HasSubstr("Besançon"));
  EXPECT_THAT(text, Not(HasSubstr("Téléphone")));
  EXPECT_THAT(text, Not(HasSubstr("Courriel")));
  EXPECT_THAT(text, Not(HasSubstr("Société")));
}

TEST_F(DocTemplateTest, LongTableSpansPagesWithHeaderAndFooterOnEach) {
  json::array rows;
  for (int i = 1; i <= 300; ++i) {
    char ref[16];
    std::snprintf(ref, sizeof ref, "R-%04d", i);
    rows.push_back(json::object{{"ref", ref}, {"name", StrCat("Élément n°", i)}});
  }
  auto pdf = Render(
      R"({"footer": "Catalogue {{shop}}", "blocks": [
      {"type": "heading", "text": "Inventaire"},
      {"type": "table", "rows": "stock.rows", "columns": [
        {"header": "Référence", "value": "{{ref}}"},
        {"header": "Désignation", "value": "{{name}}", "width": 3, "align": "right"}]}]})",
      json::serialize(json::object{{"shop", "Boutique"}, {"stock", json::object{{"rows", rows}}}}));
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  std::vector<std::string> pages = absl::StrSplit(text, '\f', absl::SkipWhitespace());
  ASSERT_GE(pages.size(), 5u);
  EXPECT_EQ(Count(text, "Référence"), pages.size());
  EXPECT_EQ(Count(text, "Désignation"), pages.size());
  EXPECT_EQ(Count(text, "Inventaire"), 1u);
  for (int i = 1; i <= 300; ++i) {
    char ref[16];
    std::snprintf(ref, sizeof ref, "R-%04d", i);
    EXPECT_EQ(Count(text, ref), 1u) << ref;
    EXPECT_EQ(Count(text, StrCat("Élément n°", i, "\n")), 1u) << i;
  }
  for (size_t p = 0; p < pages.size(); ++p) {
    std::vector<std::string> lines = absl::StrSplit(pages[p], '\n', absl::SkipWhitespace());
    ASSERT_FALSE(lines.empty());
    // The footer is the last line of each page: its text on the left, the page number on the
    // right.
    EXPECT_THAT(lines.back(), StartsWith("Catalogue Boutique")) << "page " << p + 1;
    EXPECT_TRUE(absl::EndsWith(lines.back(), StrCat(" ", p + 1))) << lines.back();
  }
}

// Regression: the footer's baseline used to be 4 pt below the bottom margin line, so with a
// margin under about 4 pt (Parse accepts 0) the footer was drawn below the page.
TEST_F(DocTemplateTest, FooterShowsWhateverTheMargin) {
  for (const char* margin : {"0", "2", "20"}) {
    auto pdf = Render(StrCat(R"({"page": "A5", "margin": )", margin,
                             R"(, "footer": "Pied de page {{who}}", "blocks": [
                                {"type": "text", "text": "Corps"}]})"),
                      R"({"who": "Herald"})");
    ASSERT_TRUE(pdf.ok()) << pdf.status();
    const std::string text = Text(*pdf);
    EXPECT_THAT(text, HasSubstr("Corps")) << "margin " << margin;
    EXPECT_THAT(text, HasSubstr("Pied de page Herald")) << "margin " << margin;
  }
}

TEST_F(DocTemplateTest, TableRowsSeeTheirOwnFields) {
  auto pdf = Render(R"j({"blocks": [{"type": "table", "rows": "order.lines", "columns": [
      {"header": "Article", "value": "{{name}} ({{qty}} × {{unit.label}})"},
      {"header": "Options", "value": "{{#options}}[{{.}}]{{/options}}"}]}]})j",
                    R"({"order": {"lines": [
                        {"name": "Pommes", "qty": 3, "unit": {"label": "kg"},
                         "options": ["bio", "local"]},
                        {"name": "Crème fraîche", "qty": 1.5, "unit": {"label": "pot"}}]}})");
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  EXPECT_THAT(text, HasSubstr("Pommes (3 × kg)"));
  EXPECT_THAT(text, HasSubstr("[bio][local]"));
  EXPECT_THAT(text, HasSubstr("Crème fraîche (1.5 × pot)"));
}

TEST_F(DocTemplateTest, TableRowsMustBeAnArray) {
  const char* kTable = R"({"blocks": [{"type": "text", "text": "avant"},
      {"type": "table", "rows": "order.lines", "columns": [{"value": "{{name}}"}]}]})";
  auto object = Render(kTable, R"({"order": {"lines": {"name": "x"}}})");
  EXPECT_EQ(object.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(object.status()), HasSubstr("order.lines"));
  EXPECT_EQ(Render(kTable, R"({"order": {"lines": "x"}})").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Render(kTable, R"({"order": {"lines": 3}})").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Missing or null: no table at all, the rest of the document is drawn.
  for (const char* data : {R"({})", R"({"order": {"lines": null}})", R"({"order": 5})"}) {
    auto pdf = Render(kTable, data);
    ASSERT_TRUE(pdf.ok()) << data << ": " << pdf.status();
    EXPECT_THAT(Text(*pdf), HasSubstr("avant"));
  }
}

TEST_F(DocTemplateTest, LongWordsAreCutNotLost) {
  std::string word;
  for (int i = 0; i < 30; ++i) word += StrCat("mot", static_cast<char>('a' + i % 26), "éèàçô");
  ASSERT_GE(word.size(), 300u);
  const std::string data = json::serialize(json::object{{"w", word}});
  auto pdf = Render(R"({"page": "A5", "blocks": [
      {"type": "text", "text": "début {{w}} fin"},
      {"type": "fields", "items": [{"label": "Mot", "value": "{{w}}"}]},
      {"type": "columns", "columns": [[{"type": "text", "text": "{{w}}"}], []]}]})",
                    data);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  // Cut into lines, each narrower than the page; put back together it is the whole word.
  EXPECT_EQ(Count(WithoutSpaces(text), word), 3u) << text;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (const std::string& line : lines) EXPECT_LT(line.size(), word.size()) << line;
}

TEST_F(DocTemplateTest, QrBlockDecodesToTheRenderedValue) {
  auto pdf = Render(R"({"page": "A5", "blocks": [
      {"type": "heading", "text": "Billet"},
      {"type": "qr", "value": "HT1.{{ticket.code}}.sig", "size": 200, "align": "center",
       "ec": "Q"}]})",
                    R"({"ticket": {"code": "TKT-2026-000123"}})");
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  EXPECT_EQ(DecodeQr(*pdf), "HT1.TKT-2026-000123.sig");
}

TEST_F(DocTemplateTest, QrValueMustBeEncodable) {
  const char* kQr = R"({"blocks": [{"type": "qr", "value": "{{code}}"}]})";
  auto empty = Render(kQr, R"({"code": ""})");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(empty.status()), HasSubstr("empty"));
  EXPECT_EQ(Render(kQr, R"({})").status().code(), absl::StatusCode::kInvalidArgument);
  auto big = Render(kQr, json::serialize(json::object{{"code", std::string(4000, 'a')}}));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DocTemplateTest, ImagesAreOptionalButMustBePng) {
  const char* kImage = R"({"blocks": [{"type": "image", "image": "logo", "width": 80},
                                      {"type": "text", "text": "après"}]})";
  auto missing = Render(kImage, "{}");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_THAT(Text(*missing), HasSubstr("après"));
  EXPECT_THAT(Qdf(*missing), Not(HasSubstr("/Subtype /Image")));
  auto other = Render(kImage, "{}", {{"banner", "not used"}});
  ASSERT_TRUE(other.ok()) << other.status();

  auto code = QrCode::Encode("logo");
  ASSERT_TRUE(code.ok());
  auto png = RenderPng(*code, {.module_px = 2, .quiet_zone = 1});
  ASSERT_TRUE(png.ok());
  auto drawn = Render(kImage, "{}", {{"logo", *png}});
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_THAT(Qdf(*drawn), HasSubstr("/Subtype /Image"));
  EXPECT_THAT(Text(*drawn), HasSubstr("après"));

  // A PNG signature and the start of an IHDR chunk (16 x 16), then nothing a decoder can use.
  static const char kFakeHeader[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10 garbage";
  for (const std::string& garbage :
       {std::string("GIF89a"), std::string(200, 'x'),
        std::string(kFakeHeader, sizeof kFakeHeader - 1), png->substr(0, png->size() / 2)}) {
    auto bad = Render(kImage, "{}", {{"logo", garbage}});
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  }
}

TEST_F(DocTemplateTest, LinkBlockIsClickableAndPrinted) {
  auto pdf = Render(R"({"blocks": [
      {"type": "link", "text": "Accepter la mission", "url": "{{base}}/accept?id={{id}}&t=x"},
      {"type": "link", "text": "Absent", "url": "{{nothing}}"},
      {"type": "text", "text": "fin"}]})",
                    R"({"base": "https://herald.example.com", "id": "A-42"})");
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string qdf = Qdf(*pdf);
  EXPECT_THAT(qdf, HasSubstr("/URI (https://herald.example.com/accept?id=A-42&t=x)"));
  EXPECT_EQ(Count(qdf, "/URI ("), 1u);
  const std::string text = Text(*pdf);
  EXPECT_THAT(text, HasSubstr("Accepter la mission"));
  EXPECT_THAT(text, HasSubstr("https://herald.example.com/accept?id=A-42&t=x"));
  // A link whose address renders empty is left out, its text too.
  EXPECT_THAT(text, Not(HasSubstr("Absent")));
  EXPECT_THAT(text, HasSubstr("fin"));
}

TEST_F(DocTemplateTest, TooManyPagesIsResourceExhausted) {
  // A small page holds two rows: 2,000 rows need about 1,000 pages.
  json::array rows;
  for (int i = 0; i < 2000; ++i) rows.push_back(json::object{{"v", i}});
  auto pdf = Render(R"({"page": {"width": 200, "height": 100}, "margin": 10, "blocks": [
      {"type": "table", "rows": "rows", "columns": [{"header": "N", "value": "{{v}}"}]}]})",
                    json::serialize(json::object{{"rows", rows}}));
  EXPECT_EQ(pdf.status().code(), absl::StatusCode::kResourceExhausted) << pdf.status();
  // Text that runs over kMaxPdfPages pages: one line of two characters per page.
  auto text = Render(R"({"page": {"width": 100, "height": 80}, "margin": 20, "blocks": [
      {"type": "text", "text": "{{t}}", "size": 30}]})",
                     json::serialize(json::object{{"t", std::string(1200, 'W')}}));
  EXPECT_EQ(text.status().code(), absl::StatusCode::kResourceExhausted) << text.status();
  // The engine is still usable.
  auto again = Render(R"({"blocks": [{"type": "text", "text": "encore"}]})", "{}");
  ASSERT_TRUE(again.ok()) << again.status();
}

TEST_F(DocTemplateTest, BordersRulesSpacersAndColumnsRender) {
  auto pdf = Render(R"({"page": "ticket", "margin": 20, "border": true, "blocks": [
      {"type": "columns", "widths": [2, 1], "gap": 12, "columns": [
        [{"type": "heading", "text": "Gauche {{a}}", "size": 14}, {"type": "rule"},
         {"type": "columns", "columns": [[{"type": "text", "text": "G1"}],
                                         [{"type": "text", "text": "G2"}]]}],
        [{"type": "spacer", "height": 30}, {"type": "text", "text": "Droite", "align": "right"}]
      ]},
      {"type": "text", "text": "Sous les colonnes"}]})",
                    R"({"a": "é"})");
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  for (const char* s : {"Gauche é", "G1", "G2", "Droite", "Sous les colonnes"}) {
    EXPECT_THAT(text, HasSubstr(s));
  }
  EXPECT_EQ(Count(text, "\f"), 1u);  // one page
}

}  // namespace
}  // namespace herald::docs
