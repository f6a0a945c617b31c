#include "core/mustache.h"

#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "boost/json/parse.hpp"
#include "core/strings.h"
#include "gtest/gtest.h"

namespace herald::core {
namespace {

using Partials = std::vector<std::pair<std::string, std::string>>;

// One case of the mustache/spec suite (https://github.com/mustache/spec, specs/*.yml).
struct SpecCase {
  const char* name;
  const char* data;  // JSON
  const char* tmpl;
  const char* expected;
  Partials partials = {};
};

boost::json::value Json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  EXPECT_FALSE(ec) << "bad JSON literal " << text;
  return v;
}

Template MustCompile(std::string_view source) {
  Result<Template> t = Template::Compile(source);
  EXPECT_TRUE(t.ok()) << t.status() << " compiling: " << source;
  return t.ok() ? *std::move(t) : Template();
}

// Compiled partials by name, looked up through PartialLookup.
class PartialSet {
 public:
  explicit PartialSet(const Partials& sources) {
    for (const auto& [name, source] : sources) templates_.emplace(name, MustCompile(source));
  }
  PartialLookup Lookup() const {
    return [this](std::string_view name) -> const Template* {
      auto it = templates_.find(name);
      return it == templates_.end() ? nullptr : &it->second;
    };
  }

 private:
  std::map<std::string, Template, std::less<>> templates_;
};

// Renders `source` against the JSON `data`; on failure the status, as text.
std::string RenderText(std::string_view source, std::string_view data,
                       const Partials& partials = {}, const RenderOptions& options = {}) {
  const PartialSet set(partials);
  Result<RenderResult> r = Render(MustCompile(source), Json(data), set.Lookup(), options);
  return r.ok() ? r->text : StrCat("error: ", r.status().message());
}

void RunSpec(const std::vector<SpecCase>& cases) {
  for (const SpecCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(RenderText(c.tmpl, c.data, c.partials), c.expected);
  }
}

TEST(Mustache, PassesSpecInterpolationCases) {
  const std::vector<SpecCase> cases = {
      {"No Interpolation", "{}", "Hello from {Mustache}!\n", "Hello from {Mustache}!\n"},
      {"Basic Interpolation", R"({"subject":"world"})", "Hello, {{subject}}!\n", "Hello, world!\n"},
      {"No Re-interpolation", R"({"template":"{{planet}}","planet":"Earth"})",
       "{{template}}: {{planet}}", "{{planet}}: Earth"},
      {"HTML Escaping", R"({"forbidden":"& \" < >"})",
       "These characters should be HTML escaped: {{forbidden}}\n",
       "These characters should be HTML escaped: &amp; &quot; &lt; &gt;\n"},
      {"Triple Mustache", R"({"forbidden":"& \" < >"})",
       "These characters should not be HTML escaped: {{{forbidden}}}\n",
       "These characters should not be HTML escaped: & \" < >\n"},
      {"Ampersand", R"({"forbidden":"& \" < >"})",
       "These characters should not be HTML escaped: {{&forbidden}}\n",
       "These characters should not be HTML escaped: & \" < >\n"},
      {"Basic Integer Interpolation", R"({"mph":85})", R"("{{mph}} miles an hour!")",
       R"("85 miles an hour!")"},
      {"Triple Mustache Integer Interpolation", R"({"mph":85})", R"("{{{mph}}} miles an hour!")",
       R"("85 miles an hour!")"},
      {"Basic Decimal Interpolation", R"({"power":1.210})", R"("{{power}} jiggawatts!")",
       R"("1.21 jiggawatts!")"},
      {"Ampersand Decimal Interpolation", R"({"power":1.210})", R"("{{&power}} jiggawatts!")",
       R"("1.21 jiggawatts!")"},
      {"Basic Null Interpolation", R"({"cannot":null})", "I ({{cannot}}) be seen!",
       "I () be seen!"},
      {"Triple Mustache Null Interpolation", R"({"cannot":null})", "I ({{{cannot}}}) be seen!",
       "I () be seen!"},
      {"Basic Context Miss Interpolation", "{}", "I ({{cannot}}) be seen!", "I () be seen!"},
      {"Ampersand Context Miss Interpolation", "{}", "I ({{&cannot}}) be seen!", "I () be seen!"},
      {"Dotted Names - Basic Interpolation", R"({"person":{"name":"Joe"}})",
       R"("{{person.name}}" == "{{#person}}{{name}}{{/person}}")", R"("Joe" == "Joe")"},
      {"Dotted Names - Ampersand Interpolation", R"({"person":{"name":"Joe"}})",
       R"("{{&person.name}}" == "{{#person}}{{&name}}{{/person}}")", R"("Joe" == "Joe")"},
      {"Dotted Names - Arbitrary Depth", R"({"a":{"b":{"c":{"d":{"e":{"name":"Phil"}}}}}})",
       R"("{{a.b.c.d.e.name}}" == "Phil")", R"("Phil" == "Phil")"},
      {"Dotted Names - Broken Chains", R"({"a":{}})", R"("{{a.b.c}}" == "")", R"("" == "")"},
      {"Dotted Names - Broken Chain Resolution", R"({"a":{"b":{}},"c":{"name":"Jim"}})",
       R"("{{a.b.c.name}}" == "")", R"("" == "")"},
      {"Dotted Names - Initial Resolution",
       R"({"a":{"b":{"c":{"d":{"e":{"name":"Phil"}}}}},"b":{"c":{"d":{"e":{"name":"Wrong"}}}}})",
       R"("{{#a}}{{b.c.d.e.name}}{{/a}}" == "Phil")", R"("Phil" == "Phil")"},
      {"Dotted Names - Context Precedence", R"({"a":{"b":{}},"b":{"c":"ERROR"}})",
       "{{#a}}{{b.c}}{{/a}}", ""},
      {"Dotted Names are never single keys", R"({"a.b":"c"})", "{{a.b}}", ""},
      {"Dotted Names - No Masking", R"({"a.b":"c","a":{"b":"d"}})", "{{a.b}}", "d"},
      {"Implicit Iterators - Basic Interpolation", R"("world")", "Hello, {{.}}!\n",
       "Hello, world!\n"},
      {"Implicit Iterators - HTML Escaping", R"("& \" < >")",
       "These characters should be HTML escaped: {{.}}\n",
       "These characters should be HTML escaped: &amp; &quot; &lt; &gt;\n"},
      {"Implicit Iterators - Triple Mustache", R"("& \" < >")",
       "These characters should not be HTML escaped: {{{.}}}\n",
       "These characters should not be HTML escaped: & \" < >\n"},
      {"Implicit Iterators - Basic Integer Interpolation", "85", R"("{{.}} miles an hour!")",
       R"("85 miles an hour!")"},
      {"Interpolation - Surrounding Whitespace", R"({"string":"---"})", "| {{string}} |",
       "| --- |"},
      {"Interpolation - Standalone", R"({"string":"---"})", "  {{string}}\n", "  ---\n"},
      {"Triple Mustache - Standalone", R"({"string":"---"})", "  {{{string}}}\n", "  ---\n"},
      {"Interpolation With Padding", R"({"string":"---"})", "|{{ string }}|", "|---|"},
      {"Triple Mustache With Padding", R"({"string":"---"})", "|{{{ string }}}|", "|---|"},
      {"Ampersand With Padding", R"({"string":"---"})", "|{{& string }}|", "|---|"},
  };
  RunSpec(cases);
}

TEST(Mustache, PassesSpecSectionCases) {
  const std::vector<SpecCase> cases = {
      {"Truthy", R"({"boolean":true})", R"("{{#boolean}}This should be rendered.{{/boolean}}")",
       R"("This should be rendered.")"},
      {"Falsey", R"({"boolean":false})",
       R"("{{#boolean}}This should not be rendered.{{/boolean}}")", R"("")"},
      {"Null is falsey", R"({"null":null})", R"("{{#null}}This should not be rendered.{{/null}}")",
       R"("")"},
      {"Context", R"({"context":{"name":"Joe"}})", R"("{{#context}}Hi {{name}}.{{/context}}")",
       R"("Hi Joe.")"},
      {"Parent contexts", R"({"a":"foo","b":"wrong","sec":{"b":"bar"},"c":{"d":"baz"}})",
       R"("{{#sec}}{{a}}, {{b}}, {{c.d}}{{/sec}}")", R"("foo, bar, baz")"},
      {"Variable test", R"({"foo":"bar"})", R"("{{#foo}}{{.}} is {{foo}}{{/foo}}")",
       R"("bar is bar")"},
      {"List Contexts",
       R"({"tops":[{"tname":{"upper":"A","lower":"a"},
                    "middles":[{"mname":"1","bottoms":[{"bname":"x"},{"bname":"y"}]}]}]})",
       "{{#tops}}{{#middles}}{{tname.lower}}{{mname}}.{{#bottoms}}{{tname.upper}}{{mname}}{{bname}}"
       "."
       "{{/bottoms}}{{/middles}}{{/tops}}",
       "a1.A1x.A1y."},
      {"Deeply Nested Contexts",
       R"({"a":{"one":1},"b":{"two":2},"c":{"three":3,"d":{"four":4,"five":5}}})",
       "{{#a}}\n{{one}}\n{{#b}}\n{{one}}{{two}}{{one}}\n{{#c}}\n"
       "{{one}}{{two}}{{three}}{{two}}{{one}}\n{{#d}}\n"
       "{{one}}{{two}}{{three}}{{four}}{{three}}{{two}}{{one}}\n{{#five}}\n"
       "{{one}}{{two}}{{three}}{{four}}{{five}}{{four}}{{three}}{{two}}{{one}}\n"
       "{{one}}{{two}}{{three}}{{four}}{{.}}6{{.}}{{four}}{{three}}{{two}}{{one}}\n"
       "{{one}}{{two}}{{three}}{{four}}{{five}}{{four}}{{three}}{{two}}{{one}}\n{{/five}}\n"
       "{{one}}{{two}}{{three}}{{four}}{{three}}{{two}}{{one}}\n{{/d}}\n"
       "{{one}}{{two}}{{three}}{{two}}{{one}}\n{{/c}}\n{{one}}{{two}}{{one}}\n{{/b}}\n"
       "{{one}}\n{{/a}}\n",
       "1\n121\n12321\n1234321\n123454321\n12345654321\n123454321\n1234321\n12321\n121\n1\n"},
      {"List", R"({"list":[{"item":1},{"item":2},{"item":3}]})", R"("{{#list}}{{item}}{{/list}}")",
       R"("123")"},
      {"Empty List", R"({"list":[]})", R"("{{#list}}Yay lists!{{/list}}")", R"("")"},
      {"Strings Not Lists", R"({"section":"123"})", R"("{{#section}}foo{{/section}}")", R"("foo")"},
      {"Doubled", R"({"bool":true,"two":"second"})",
       "{{#bool}}\n* first\n{{/bool}}\n* {{two}}\n{{#bool}}\n* third\n{{/bool}}\n",
       "* first\n* second\n* third\n"},
      {"Nested (Truthy)", R"({"bool":true})", "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |",
       "| A B C D E |"},
      {"Nested (Falsey)", R"({"bool":false})", "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |",
       "| A  E |"},
      {"Context Misses", "{}", "[{{#missing}}Found key 'missing'!{{/missing}}]", "[]"},
      {"Implicit Iterator - String", R"({"list":["a","b","c","d","e"]})",
       R"~("{{#list}}({{.}}){{/list}}")~", R"~("(a)(b)(c)(d)(e)")~"},
      {"Implicit Iterator - Integer", R"({"list":[1,2,3,4,5]})", R"~("{{#list}}({{.}}){{/list}}")~",
       R"~("(1)(2)(3)(4)(5)")~"},
      {"Implicit Iterator - Decimal", R"({"list":[1.10,2.20,3.30,4.40,5.50]})",
       R"~("{{#list}}({{.}}){{/list}}")~", R"~("(1.1)(2.2)(3.3)(4.4)(5.5)")~"},
      {"Implicit Iterator - Array", R"({"list":[[1,2,3],["a","b","c"]]})",
       R"~("{{#list}}({{#.}}{{.}}{{/.}}){{/list}}")~", R"~("(123)(abc)")~"},
      {"Implicit Iterator - Root-level", R"([{"value":"a"},{"value":"b"}])",
       "{{#.}}({{value}}){{/.}}", "(a)(b)"},
      {"Dotted Names - Truthy", R"({"a":{"b":{"c":true}}})",
       R"("{{#a.b.c}}Here{{/a.b.c}}" == "Here")", R"("Here" == "Here")"},
      {"Dotted Names - Falsey", R"({"a":{"b":{"c":false}}})", R"("{{#a.b.c}}Here{{/a.b.c}}" == "")",
       R"("" == "")"},
      {"Dotted Names - Broken Chains", R"({"a":{}})", R"("{{#a.b.c}}Here{{/a.b.c}}" == "")",
       R"("" == "")"},
      {"Surrounding Whitespace", R"({"boolean":true})", " | {{#boolean}}\t|\t{{/boolean}} | \n",
       " | \t|\t | \n"},
      {"Internal Whitespace", R"({"boolean":true})",
       " | {{#boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n", " |  \n  | \n"},
      {"Indented Inline Sections", R"({"boolean":true})",
       " {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n", " YES\n GOOD\n"},
      {"Standalone Lines", R"({"boolean":true})",
       "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n", "| This Is\n|\n| A Line\n"},
      {"Indented Standalone Lines", R"({"boolean":true})",
       "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n", "| This Is\n|\n| A Line\n"},
      {"Standalone Line Endings", R"({"boolean":true})", "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|",
       "|\r\n|"},
      {"Standalone Without Previous Line", R"({"boolean":true})",
       "  {{#boolean}}\n#{{/boolean}}\n/", "#\n/"},
      {"Standalone Without Newline", R"({"boolean":true})", "#{{#boolean}}\n/\n  {{/boolean}}",
       "#\n/\n"},
      {"Padding", R"({"boolean":true})", "|{{# boolean }}={{/ boolean }}|", "|=|"},
  };
  RunSpec(cases);
}

TEST(Mustache, PassesSpecInvertedCases) {
  const std::vector<SpecCase> cases = {
      {"Falsey", R"({"boolean":false})", R"("{{^boolean}}This should be rendered.{{/boolean}}")",
       R"("This should be rendered.")"},
      {"Null is falsey", R"({"null":null})", R"("{{^null}}This should be rendered.{{/null}}")",
       R"("This should be rendered.")"},
      {"Truthy", R"({"boolean":true})", R"("{{^boolean}}This should not be rendered.{{/boolean}}")",
       R"("")"},
      {"Context", R"({"context":{"name":"Joe"}})", R"("{{^context}}Hi {{name}}.{{/context}}")",
       R"("")"},
      {"List", R"({"list":[{"n":1},{"n":2},{"n":3}]})", R"("{{^list}}{{n}}{{/list}}")", R"("")"},
      {"Empty List", R"({"list":[]})", R"("{{^list}}Yay lists!{{/list}}")", R"("Yay lists!")"},
      {"Doubled", R"({"bool":false,"two":"second"})",
       "{{^bool}}\n* first\n{{/bool}}\n* {{two}}\n{{^bool}}\n* third\n{{/bool}}\n",
       "* first\n* second\n* third\n"},
      {"Nested (Falsey)", R"({"bool":false})", "| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |",
       "| A B C D E |"},
      {"Nested (Truthy)", R"({"bool":true})", "| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |",
       "| A  E |"},
      {"Context Misses", "{}", "[{{^missing}}Found key 'missing'!{{/missing}}]",
       "[Found key 'missing'!]"},
      {"Dotted Names - Truthy", R"({"a":{"b":{"c":true}}})",
       R"("{{^a.b.c}}Not Here{{/a.b.c}}" == "")", R"("" == "")"},
      {"Dotted Names - Falsey", R"({"a":{"b":{"c":false}}})",
       R"("{{^a.b.c}}Not Here{{/a.b.c}}" == "Not Here")", R"("Not Here" == "Not Here")"},
      {"Dotted Names - Broken Chains", R"({"a":{}})",
       R"("{{^a.b.c}}Not Here{{/a.b.c}}" == "Not Here")", R"("Not Here" == "Not Here")"},
      {"Surrounding Whitespace", R"({"boolean":false})", " | {{^boolean}}\t|\t{{/boolean}} | \n",
       " | \t|\t | \n"},
      {"Internal Whitespace", R"({"boolean":false})",
       " | {{^boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n", " |  \n  | \n"},
      {"Indented Inline Sections", R"({"boolean":false})",
       " {{^boolean}}NO{{/boolean}}\n {{^boolean}}WAY{{/boolean}}\n", " NO\n WAY\n"},
      {"Standalone Lines", R"({"boolean":false})",
       "| This Is\n{{^boolean}}\n|\n{{/boolean}}\n| A Line\n", "| This Is\n|\n| A Line\n"},
      {"Standalone Indented Lines", R"({"boolean":false})",
       "| This Is\n  {{^boolean}}\n|\n  {{/boolean}}\n| A Line\n", "| This Is\n|\n| A Line\n"},
      {"Standalone Line Endings", R"({"boolean":false})", "|\r\n{{^boolean}}\r\n{{/boolean}}\r\n|",
       "|\r\n|"},
      {"Standalone Without Previous Line", R"({"boolean":false})",
       "  {{^boolean}}\n^{{/boolean}}\n/", "^\n/"},
      {"Standalone Without Newline", R"({"boolean":false})", "^{{^boolean}}\n/\n  {{/boolean}}",
       "^\n/\n"},
      {"Padding", R"({"boolean":false})", "|{{^ boolean }}={{/ boolean }}|", "|=|"},
  };
  RunSpec(cases);
}

TEST(Mustache, PassesSpecCommentCases) {
  const std::vector<SpecCase> cases = {
      {"Inline", "{}", "12345{{! Comment Block! }}67890", "1234567890"},
      {"Multiline", "{}", "12345{{!\n  This is a\n  multi-line comment...\n}}67890\n",
       "1234567890\n"},
      {"Standalone", "{}", "Begin.\n{{! Comment Block! }}\nEnd.\n", "Begin.\nEnd.\n"},
      {"Indented Standalone", "{}", "Begin.\n  {{! Indented Comment Block! }}\nEnd.\n",
       "Begin.\nEnd.\n"},
      {"Standalone Line Endings", "{}", "|\r\n{{! Standalone Comment }}\r\n|", "|\r\n|"},
      {"Standalone Without Previous Line", "{}", "  {{! I'm Still Standalone }}\n!", "!"},
      {"Standalone Without Newline", "{}", "!\n  {{! I'm Still Standalone }}", "!\n"},
      {"Multiline Standalone", "{}", "Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n",
       "Begin.\nEnd.\n"},
      {"Indented Multiline Standalone", "{}",
       "Begin.\n  {{!\n    Something's going on here...\n  }}\nEnd.\n", "Begin.\nEnd.\n"},
      {"Indented Inline", "{}", "  12 {{! 34 }}\n", "  12 \n"},
      {"Surrounding Whitespace", "{}", "12345 {{! Comment Block! }} 67890", "12345  67890"},
      {"Variable Name Collision", R"({"! comment":1,"! comment ":2,"!comment":3,"comment":4})",
       "comments never show: >{{! comment }}<", "comments never show: ><"},
  };
  RunSpec(cases);
}

TEST(Mustache, PassesSpecPartialCases) {
  const std::vector<SpecCase> cases = {
      {"Basic Behavior", "{}", R"("{{>text}}")", R"("from partial")", {{"text", "from partial"}}},
      {"Failed Lookup", "{}", R"("{{>text}}")", R"("")"},
      {"Context",
       R"({"text":"content"})",
       R"("{{>partial}}")",
       R"("*content*")",
       {{"partial", "*{{text}}*"}}},
      {"Recursion",
       R"({"content":"X","nodes":[{"content":"Y","nodes":[]}]})",
       "{{>node}}",
       "X<Y<>>",
       {{"node", "{{content}}<{{#nodes}}{{>node}}{{/nodes}}>"}}},
      {"Nested",
       R"({"a":"hello","b":"world"})",
       "{{>outer}}",
       "*hello world!*",
       {{"outer", "*{{a}} {{>inner}}*"}, {"inner", "{{b}}!"}}},
      {"Surrounding Whitespace", "{}", "| {{>partial}} |", "| \t|\t |", {{"partial", "\t|\t"}}},
      {"Inline Indentation",
       R"({"data":"|"})",
       "  {{data}}  {{> partial}}\n",
       "  |  >\n>\n",
       {{"partial", ">\n>"}}},
      {"Standalone Line Endings", "{}", "|\r\n{{>partial}}\r\n|", "|\r\n>|", {{"partial", ">"}}},
      {"Standalone Without Previous Line",
       "{}",
       "  {{>partial}}\n>",
       "  >\n  >>",
       {{"partial", ">\n>"}}},
      {"Standalone Without Newline",
       "{}",
       ">\n  {{>partial}}",
       ">\n  >\n  >",
       {{"partial", ">\n>"}}},
      {"Standalone Indentation",
       R"({"content":"<\n->"})",
       "\\\n {{>partial}}\n/\n",
       "\\\n |\n <\n->a b<\n->c\n |\n/\n",
       {{"partial", "|\n{{{content}}}a b{{{content}}}c\n|\n"}}},
      {"Padding Whitespace",
       R"({"boolean":true})",
       "|{{> partial }}|",
       "|[]|",
       {{"partial", "[]"}}},
  };
  RunSpec(cases);
}

TEST(Mustache, PassesSpecDelimiterCases) {
  const std::vector<SpecCase> cases = {
      {"Pair Behavior", R"({"text":"Hey!"})", "{{=<% %>=}}(<%text%>)", "(Hey!)"},
      {"Special Characters", R"({"text":"It worked!"})", "({{=[ ]=}}[text])", "(It worked!)"},
      {"Sections", R"({"section":true,"data":"I got interpolated."})",
       "[\n{{#section}}\n  {{data}}\n  |data|\n{{/section}}\n\n{{= | | =}}\n|#section|\n"
       "  {{data}}\n  |data|\n|/section|\n]\n",
       "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n  I got interpolated.\n]\n"},
      {"Inverted Sections", R"({"section":false,"data":"I got interpolated."})",
       "[\n{{^section}}\n  {{data}}\n  |data|\n{{/section}}\n\n{{= | | =}}\n|^section|\n"
       "  {{data}}\n  |data|\n|/section|\n]\n",
       "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n  I got interpolated.\n]\n"},
      {"Partial Inheritence",
       R"({"value":"yes"})",
       "[ {{>include}} ]\n{{= | | =}}\n[ |>include| ]\n",
       "[ .yes. ]\n[ .yes. ]\n",
       {{"include", ".{{value}}."}}},
      {"Post-Partial Behavior",
       R"({"value":"yes"})",
       "[ {{>include}} ]\n[ .{{value}}.  .|value|. ]\n",
       "[ .yes.  .yes. ]\n[ .yes.  .|value|. ]\n",
       {{"include", ".{{value}}. {{= | | =}} .|value|."}}},
      {"Surrounding Whitespace", "{}", "| {{=@ @=}} |", "|  |"},
      {"Outlying Whitespace (Inline)", "{}", " | {{=@ @=}}\n", " | \n"},
      {"Standalone Tag", "{}", "Begin.\n{{=@ @=}}\nEnd.\n", "Begin.\nEnd.\n"},
      {"Indented Standalone Tag", "{}", "Begin.\n  {{=@ @=}}\nEnd.\n", "Begin.\nEnd.\n"},
      {"Standalone Line Endings", "{}", "|\r\n{{= @ @ =}}\r\n|", "|\r\n|"},
      {"Standalone Without Previous Line", "{}", "  {{=@ @=}}\n=", "="},
      {"Standalone Without Newline", "{}", "=\n  {{=@ @=}}", "=\n"},
      {"Pair with Padding", "{}", "|{{= @   @ =}}|", "||"},
  };
  RunSpec(cases);
}

TEST(Mustache, RendersTheTicketGeneratedTemplate) {
  const Template t = MustCompile(
      "Bonjour {{guest_name}}, vos billets pour {{event_title}} sont prêts : {{ticket_url}}");
  EXPECT_EQ(t.variables(), (std::vector<std::string>{"guest_name", "event_title", "ticket_url"}));
  Result<RenderResult> r = Render(t, Json(R"({"event_title": "Tech Conference 2026",
                                              "ticket_url": "https://app.eventplanner.com/tickets/789",
                                              "guest_name": "John Doe"})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text,
            "Bonjour John Doe, vos billets pour Tech Conference 2026 sont prêts : "
            "https://app.eventplanner.com/tickets/789");
  EXPECT_TRUE(r->missing.empty());
}

TEST(Mustache, PassesFrenchTextThroughUntouched) {
  EXPECT_FALSE(Template::Compile("{{prénom}}").ok());  // names are ASCII; text and data are not
  EXPECT_EQ(RenderText("Chère {{nom}}, à bientôt à l'Opéra — « Noël » ☕ {{lieu}}\n",
                       R"({"nom":"Hélène Dupré","lieu":"Théâtre du Châtelet"})"),
            "Chère Hélène Dupré, à bientôt à l'Opéra — « Noël » ☕ Théâtre du Châtelet\n");
  EXPECT_EQ(RenderText("{{{x}}}", R"({"x":"garçon 😀 \u00e9"})"), "garçon 😀 é");
}

TEST(Mustache, EscapesHtmlOnlyInDoubleMustaches) {
  const char* data = R"({"x":"<a href=\"/t?a=1&b=2\">Tom's</a>"})";
  EXPECT_EQ(RenderText("{{x}}", data),
            "&lt;a href=&quot;/t?a=1&amp;b=2&quot;&gt;Tom&#39;s&lt;/a&gt;");
  EXPECT_EQ(RenderText("{{{x}}}|{{& x}}", data),
            "<a href=\"/t?a=1&b=2\">Tom's</a>|<a href=\"/t?a=1&b=2\">Tom's</a>");
  RenderOptions plain;
  plain.html_escape = false;
  EXPECT_EQ(RenderText("{{x}}", data, {}, plain), "<a href=\"/t?a=1&b=2\">Tom's</a>");
  EXPECT_EQ(RenderText("<b>{{x}}</b>", R"({"x":"plain"})"), "<b>plain</b>");
}

TEST(Mustache, ReportsMissingNamesInOrderWithoutDuplicates) {
  const Template t = MustCompile(
      "{{a}} {{b.c}} {{a}} {{#list}}{{name}}{{missing_in_list}}{{/list}} "
      "{{^nothing}}none{{/nothing}} {{>footer}}{{>footer}} {{#b}}{{a}}{{/b}}");
  Result<RenderResult> r = Render(t, Json(R"({"b":{}, "list":[{"name":"x"},{"name":"y"}]})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "   xy none  ");
  EXPECT_EQ(r->missing,
            (std::vector<std::string>{"a", "b.c", "missing_in_list", "nothing", ">footer"}));
}

TEST(Mustache, DoesNotReportNullsOrNamesInSkippedSections) {
  Result<RenderResult> r = Render(MustCompile("{{n}}{{#f}}{{unseen}}{{/f}}{{^t}}{{unseen2}}{{/t}}"),
                                  Json(R"({"n":null,"f":false,"t":true})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "");
  EXPECT_TRUE(r->missing.empty());
}

TEST(Mustache, TreatsOnlyFalseNullEmptyListsAndMissingAsFalsey) {
  const std::string tmpl = "{{#v}}yes{{/v}}{{^v}}no{{/v}}";
  EXPECT_EQ(RenderText(tmpl, R"({"v":false})"), "no");
  EXPECT_EQ(RenderText(tmpl, R"({"v":null})"), "no");
  EXPECT_EQ(RenderText(tmpl, R"({"v":[]})"), "no");
  EXPECT_EQ(RenderText(tmpl, R"({})"), "no");
  // As in the spec (and Ruby), unlike JavaScript implementations:
  EXPECT_EQ(RenderText(tmpl, R"({"v":""})"), "yes");
  EXPECT_EQ(RenderText(tmpl, R"({"v":0})"), "yes");
  EXPECT_EQ(RenderText(tmpl, R"({"v":0.0})"), "yes");
  EXPECT_EQ(RenderText(tmpl, R"({"v":{}})"), "yes");
  EXPECT_EQ(RenderText(tmpl, R"({"v":[false]})"), "yes");
  EXPECT_EQ(RenderText("{{#v}}[{{.}}]{{/v}}", R"({"v":0})"), "[0]");
}

TEST(Mustache, FormatsValuesAsJavaScriptWould) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"42", "42"},
      {"-7", "-7"},
      {"0", "0"},
      {"18446744073709551615", "18446744073709551615"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"1.5", "1.5"},
      {"1.0", "1"},
      {"-0.0", "0"},
      {"0.1", "0.1"},
      {"123456.789", "123456.789"},
      {"1e20", "100000000000000000000"},
      {"1e21", "1e+21"},
      {"0.000001", "0.000001"},
      {"1.5e-7", "1.5e-7"},
      {"2.5e300", "2.5e+300"},
      {"true", "true"},
      {"false", "false"},
      {"null", ""},
      {"[1,\"x\"]", "[1,&quot;x&quot;]"},
      {"{\"a\":{}}", "{&quot;a&quot;:{}}"},
  };
  for (const auto& [json, text] : cases) {
    EXPECT_EQ(RenderText("{{v}}", StrCat("{\"v\":", json, "}")), text) << json;
  }
}

TEST(Mustache, ListsVariablesAndPartialsInOrderOfFirstAppearance) {
  const Template t = MustCompile(
      "{{#a}}{{b.c}}{{.}}{{/a}}{{b.c}}{{{d}}}{{>p}}{{^e}}{{& a}}{{/e}}{{> q/r }}{{>p}}");
  EXPECT_EQ(t.variables(), (std::vector<std::string>{"a", "b.c", "d", "e"}));
  EXPECT_EQ(t.partials(), (std::vector<std::string>{"p", "q/r"}));
}

TEST(Mustache, CompileErrorsNameLineAndColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Hello {{name", "line 1, column 7: tag opened with '{{' is never closed"},
      {"{{{name}}", "line 1, column 1: tag opened with '{{' is never closed (no '}}}')"},
      {"a\n  {{#items}}\n{{x}}", "line 2, column 3: section 'items' is never closed"},
      {"{{#a}}\n x {{/b}}",
       "line 2, column 4: closing tag for 'b' does not match section 'a' "
       "opened at line 1, column 1"},
      {"ok\n{{/a}}", "line 2, column 1: closing tag for 'a' without an open section"},
      {"{{}}", "line 1, column 1: empty tag name"},
      {"x {{# }}{{/}}", "line 1, column 3: empty tag name"},
      {"{{>}}", "line 1, column 1: empty partial name"},
      {"été {{a b}}", "line 1, column 5: invalid name 'a b'"},
      {"{{a..b}}", "line 1, column 1: invalid name 'a..b'"},
      {"{{.a}}", "line 1, column 1: invalid name '.a'"},
      {"{{a.}}", "line 1, column 1: invalid name 'a.'"},
      {"{{a\x01}}", "line 1, column 1: invalid name 'a?'"},
      {"{{> a b}}", "line 1, column 1: invalid partial name 'a b'"},
      {"\n\n   {{<parent}}{{/parent}}", "line 3, column 4: template inheritance"},
      {"{{$block}}", "line 1, column 1: template inheritance"},
      {"{{=<% %>}}", "line 1, column 1: tag opened with '{{' is never closed (no '=}}')"},
      {"{{= a =}}", "line 1, column 1: a set-delimiter tag needs two delimiters"},
      {"{{=a = b=}}", "line 1, column 1: a set-delimiter tag needs two delimiters"},
      {"{{=<% %>=}} <%x", "line 1, column 13: tag opened with '<%' is never closed (no '%>')"},
  };
  for (const auto& [source, message] : cases) {
    Result<Template> t = Template::Compile(source);
    ASSERT_FALSE(t.ok()) << source;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << source;
    EXPECT_EQ(ToStd(t.status().message()).substr(0, message.size()), message) << source;
  }
}

TEST(Mustache, RejectsTemplatesOverTheSizeLimit) {
  EXPECT_TRUE(Template::Compile(std::string(kMaxTemplateBytes, 'a')).ok());
  Result<Template> t = Template::Compile(std::string(kMaxTemplateBytes + 1, 'a'));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Mustache, RejectsSectionsNestedDeeperThanTheLimit) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{{#a}}";
    s += "{{b}}";
    for (int i = 0; i < depth; ++i) s += "{{/a}}";
    return s;
  };
  EXPECT_TRUE(Template::Compile(nested(kMaxSectionDepth)).ok());
  Result<Template> t = Template::Compile(nested(kMaxSectionDepth + 1));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(ToStd(t.status().message()), "line 1, column 385: sections nested deeper than 64");
}

TEST(Mustache, SupportsTripleMustachesWithCustomDelimiters) {
  EXPECT_EQ(RenderText("{{=<% %>=}}<%x%> <%{x}%> <%& x%> {{x}}<%={{ }}=%> {{x}}", R"({"x":"<&>"})"),
            "&lt;&amp;&gt; <&> <&> {{x}} &lt;&amp;&gt;");
}

TEST(Mustache, ReportsMissingPartialsAndRendersThemEmpty) {
  const PartialSet partials(Partials{{"known", "[{{v}}]"}});
  Result<RenderResult> r = Render(MustCompile("a{{>known}}b{{>unknown}}c\n  {{>unknown}}\nd"),
                                  Json(R"({"v":1})"), partials.Lookup());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "a[1]bc\nd");
  EXPECT_EQ(r->missing, (std::vector<std::string>{">unknown"}));
  Result<RenderResult> none = Render(MustCompile("x{{>known}}y"), Json("{}"));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->text, "xy");
  EXPECT_EQ(none->missing, (std::vector<std::string>{">known"}));
}

TEST(Mustache, IndentsNestedStandalonePartialsCumulatively) {
  const Partials partials = {
      {"list", "<ul>\n{{#items}}\n  {{>item}}\n{{/items}}\n</ul>\n"},
      {"item", "<li>\n  {{name}}\n</li>\n"},
  };
  EXPECT_EQ(RenderText("<body>\n  {{>list}}\n</body>\n", R"({"items":[{"name":"a"},{"name":"b"}]})",
                       partials),
            "<body>\n  <ul>\n    <li>\n      a\n    </li>\n    <li>\n      b\n    </li>\n"
            "  </ul>\n</body>\n");
}

TEST(Mustache, FailsWhenPartialsRecurseTooDeeply) {
  const PartialSet partials(Partials{{"self", "x{{>self}}"}});
  Result<RenderResult> r = Render(MustCompile("{{>self}}"), Json("{}"), partials.Lookup());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ToStd(r.status().message()), "partials nested deeper than 16 (at partial 'self')");
}

TEST(Mustache, StopsExponentialPartialsAtTheOutputLimit) {
  Partials sources = {{"p0", std::string(1024, 'x')}};
  for (int i = 1; i < kMaxPartialDepth; ++i) {
    sources.emplace_back(StrCat("p", i), StrCat("{{>p", i - 1, "}}{{>p", i - 1, "}}"));
  }
  const PartialSet partials(sources);
  Result<RenderResult> r = Render(MustCompile(StrCat("{{>p", kMaxPartialDepth - 1, "}}")),
                                  Json("{}"), partials.Lookup());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ToStd(r.status().message()), "rendered text exceeds 4194304 bytes");

  RenderOptions small;
  small.max_output_bytes = 10;
  EXPECT_EQ(RenderText("0123456789", "{}", {}, small), "0123456789");
  EXPECT_EQ(RenderText("0123456789{{x}}", R"({"x":"!"})", {}, small),
            "error: rendered text exceeds 10 bytes");
}

TEST(Mustache, StopsLoopsThatWorkTooLongWithoutOutput) {
  std::string items = "[";
  for (int i = 0; i < 100; ++i) items += i == 0 ? "0" : ",0";
  items += "]";
  Result<RenderResult> r = Render(
      MustCompile("{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}"),
      Json(StrCat(R"({"a":)", items, "}")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ToStd(r.status().message()), "rendering took more than 16000000 steps");
}

TEST(Mustache, RendersOneTemplateFromManyThreads) {
  const Template t = MustCompile("{{#items}}{{name}}={{value}};{{/items}}{{missing}}");
  const boost::json::value data =
      Json(R"({"items":[{"name":"a","value":1},{"name":"b","value":2.5}]})");
  std::vector<std::thread> threads;
  std::vector<std::string> texts(8);
  for (size_t i = 0; i < texts.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 200; ++n) {
        Result<RenderResult> r = Render(t, data);
        if (r.ok() && r->missing.size() == 1) texts[i] = r->text;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& text : texts) EXPECT_EQ(text, "a=1;b=2.5;");
}

}  // namespace
}  // namespace herald::core
