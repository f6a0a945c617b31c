#include "apps/tickets/guest_csv.h"

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"
#include "docs/pdf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::apps::tickets {

void PrintTo(const RowError& e, std::ostream* os) {
  *os << "{" << e.line << ", \"" << e.field << "\", \"" << e.message << "\"}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

GuestCsv Parse(std::string_view text, const GuestCsvOptions& options = {}) {
  Result<GuestCsv> csv = ParseGuestCsv(text, options);
  EXPECT_TRUE(csv.ok()) << csv.status();
  return csv.ok() ? *std::move(csv) : GuestCsv{};
}

// The message of the InvalidArgument that parsing `text` must give.
std::string FileError(std::string_view text, const GuestCsvOptions& options = {}) {
  Result<GuestCsv> csv = ParseGuestCsv(text, options);
  EXPECT_FALSE(csv.ok()) << "parsed with " << (csv.ok() ? csv->rows.size() : 0) << " rows";
  if (csv.ok()) return "";
  EXPECT_EQ(csv.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(ToStd(csv.status().message()));
}

std::vector<int> Lines(const std::vector<GuestRow>& rows) {
  std::vector<int> out;
  for (const GuestRow& r : rows) out.push_back(r.line);
  return out;
}

// The single row error of a one-row file with header "first_name,last_name,email,phone,
// ticket_type" and this row, as "field: message" ("" when the row is accepted).
std::string RowProblem(std::string_view row) {
  const GuestCsv csv = Parse(StrCat("first_name,last_name,email,phone,ticket_type\n", row, "\n"));
  EXPECT_EQ(csv.records, 1);
  EXPECT_EQ(csv.rows.size() + csv.errors.size(), 1u);
  if (csv.errors.empty()) return "";
  EXPECT_EQ(csv.errors[0].line, 2);
  return StrCat(csv.errors[0].field, ": ", csv.errors[0].message);
}

// --- CSV syntax -------------------------------------------------------------------------------

TEST(GuestCsv, ParsesASimpleCommaSeparatedFile) {
  const GuestCsv csv = Parse(
      "first_name,last_name,email,phone,ticket_type\n"
      "Jean,Dupont,jean.dupont@exemple.fr,06 12 34 56 78,VIP\n"
      "Marie,Curie,,+33 7 00 00 00 01,\n");
  EXPECT_EQ(csv.encoding, "utf-8");
  EXPECT_EQ(csv.records, 2);
  EXPECT_THAT(csv.errors, IsEmpty());
  EXPECT_THAT(csv.ignored_columns, IsEmpty());
  ASSERT_EQ(csv.rows.size(), 2u);
  EXPECT_EQ(csv.rows[0].line, 2);
  EXPECT_EQ(csv.rows[0].first_name, "Jean");
  EXPECT_EQ(csv.rows[0].last_name, "Dupont");
  EXPECT_EQ(csv.rows[0].email, "jean.dupont@exemple.fr");
  EXPECT_EQ(csv.rows[0].phone, "+33612345678");
  EXPECT_EQ(csv.rows[0].ticket_type, "VIP");
  EXPECT_EQ(csv.rows[1].line, 3);
  EXPECT_EQ(csv.rows[1].email, "");
  EXPECT_EQ(csv.rows[1].phone, "+33700000001");
  EXPECT_EQ(csv.rows[1].ticket_type, "");
}

TEST(GuestCsv, QuotedFieldsTakeEscapedQuotesDelimitersAndLineBreaks) {
  const GuestCsv csv = Parse(
      "Pr\xC3\xA9nom;Nom;Courriel;Notes\n"
      "\"Jean \"\"JJ\"\"\";\"Dupont; fils\";jj@exemple.fr;\"arrive tard;\nvient avec\r\nson "
      "chien\"\n"
      "Ana;Lima;ana@exemple.fr;\n"
      "  \"Luc\"  ;\"Martin\"x;luc@exemple.fr;\"\"\n");
  EXPECT_THAT(csv.errors, IsEmpty());
  ASSERT_EQ(csv.rows.size(), 3u);
  EXPECT_EQ(csv.rows[0].first_name, "Jean \"JJ\"");
  EXPECT_EQ(csv.rows[0].last_name, "Dupont; fils");
  EXPECT_EQ(csv.rows[0].line, 2);
  // The record on line 2 spans lines 2 to 4.
  EXPECT_EQ(csv.rows[1].line, 5);
  EXPECT_EQ(csv.rows[2].line, 6);
  EXPECT_EQ(csv.rows[2].first_name, "Luc");     // spaces before the quote are ignored
  EXPECT_EQ(csv.rows[2].last_name, "Martinx");  // text after the closing quote is kept
  EXPECT_THAT(csv.ignored_columns, ElementsAre("Notes"));
}

TEST(GuestCsv, AQuoteInsideAnUnquotedFieldIsLiteral) {
  const GuestCsv csv = Parse("name,email\nJean O\"Neil,j@exemple.fr\n");
  ASSERT_EQ(csv.rows.size(), 1u);
  EXPECT_EQ(csv.rows[0].last_name, "O\"Neil");
}

TEST(GuestCsv, AcceptsCrLfLfAndCrLineEnds) {
  for (std::string_view eol : {"\r\n", "\n", "\r"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(eol)));
    const GuestCsv csv = Parse(StrCat("name,email,notes", eol, "A B,a@exemple.fr", eol, eol,
                                      "C D,c@exemple.fr,\"x", eol, "y\"", eol, "E F,e@exemple.fr"));
    EXPECT_THAT(csv.errors, IsEmpty());
    EXPECT_THAT(Lines(csv.rows), ElementsAre(2, 4, 6));
  }
  // Mixed in one file, CRLF counting as one break.
  const GuestCsv mixed =
      Parse("name,email\r\nA B,a@exemple.fr\rC D,c@exemple.fr\nE F,e@exemple.fr");
  EXPECT_THAT(Lines(mixed.rows), ElementsAre(2, 3, 4));
}

TEST(GuestCsv, SkipsEmptyRowsAndTrailingEmptyLinesSilently) {
  const GuestCsv csv = Parse(
      "\n;;;\n"
      "Pr\xC3\xA9nom;Nom;Courriel\r\n"
      ";;\r\n"
      "Jean;Dupont;jean@exemple.fr\r\n"
      "  ; \"\" ;\t\r\n"
      "\r\n"
      "Marie;Curie;marie@exemple.fr\r\n"
      ";;;;;;\r\n\r\n\r\n");
  EXPECT_THAT(csv.errors, IsEmpty());
  EXPECT_EQ(csv.records, 2);
  EXPECT_THAT(Lines(csv.rows), ElementsAre(5, 8));
}

TEST(GuestCsv, SkipsAUtf8ByteOrderMark) {
  const GuestCsv csv = Parse(
      "\xEF\xBB\xBF"
      "first_name,email\nJean,jean@exemple.fr\n");
  EXPECT_THAT(csv.ignored_columns, IsEmpty());
  ASSERT_EQ(csv.rows.size(), 1u);
  EXPECT_EQ(csv.rows[0].first_name, "Jean");
  EXPECT_EQ(csv.encoding, "utf-8");
}

TEST(GuestCsv, AnUnterminatedQuoteIsAnErrorForTheRestOfTheFile) {
  const GuestCsv csv = Parse(
      "first_name;email;notes\n"
      "Jean;jean@exemple.fr;\n"
      "Marie;marie@exemple.fr;\"ok\n"
      "fine\"\n"
      "Paul;paul@exemple.fr;\"oops\n"
      "Luc;luc@exemple.fr;\n"
      "Ana;ana@exemple.fr;\n");
  EXPECT_THAT(Lines(csv.rows), ElementsAre(2, 3));
  EXPECT_EQ(csv.records, 3);
  EXPECT_THAT(csv.errors,
              ElementsAre(RowError{5, "",
                                   "a quote opened on this line is never closed, so the rest of "
                                   "the file (from line 5) could not be read"}));
}

TEST(GuestCsv, AnUnterminatedQuoteOnALaterLineOfARecordIsReportedWhereItOpened) {
  const GuestCsv csv = Parse("name;email;a;b\nJean Dupont;j@exemple.fr;\"x\ny\";\"z\n\n");
  EXPECT_THAT(csv.rows, IsEmpty());
  ASSERT_EQ(csv.errors.size(), 1u);
  EXPECT_EQ(csv.errors[0].line, 3);
}

TEST(GuestCsv, AnUnterminatedQuoteInTheHeaderMakesTheFileUnusable) {
  EXPECT_EQ(FileError("first_name,\"email\nJean,j@exemple.fr\n"),
            "line 1: a quote in the header is never closed");
}

TEST(GuestCsv, ChoosesTheDelimiterFromTheHeaderLineOutsideQuotes) {
  const std::string row = "Jean|Dupont|j@exemple.fr\n";
  for (char d : {',', ';', '\t'}) {
    SCOPED_TRACE(testing::PrintToString(d));
    std::string text = StrCat("first_name|last_name|email\n", row);
    for (char& c : text) {
      if (c == '|') c = d;
    }
    const GuestCsv csv = Parse(text);
    ASSERT_EQ(csv.rows.size(), 1u);
    EXPECT_EQ(csv.rows[0].last_name, "Dupont");
  }
  // Three commas inside quotes do not outvote two semicolons outside.
  const GuestCsv quoted = Parse("\"a,b,c,d\";first_name;email\nx,y;Jean;j@exemple.fr\n");
  EXPECT_THAT(quoted.ignored_columns, ElementsAre("a,b,c,d"));
  ASSERT_EQ(quoted.rows.size(), 1u);
  EXPECT_EQ(quoted.rows[0].first_name, "Jean");
  // Commas in the data do not matter once the header chose ';'.
  const GuestCsv data = Parse("nom complet;email\nDupont, Jean;j@exemple.fr\n");
  ASSERT_EQ(data.rows.size(), 1u);
  EXPECT_EQ(data.rows[0].first_name, "Dupont,");
  EXPECT_EQ(data.rows[0].last_name, "Jean");
}

// --- Encoding ---------------------------------------------------------------------------------

// What Excel for Windows (French) writes for "CSV (séparateur : point-virgule)": Windows-1252,
// ';', CRLF, quotes only where needed.
constexpr std::string_view kFrenchExcelExport =
    "Pr\xE9nom;Nom;Courriel;T\xE9l\xE9phone;Cat\xE9gorie;Commentaire\r\n"
    "H\xE9l\xE8ne;M\xFCller;helene.muller@exemple.fr;06 12 34 56 78;Adulte;\r\n"
    "Fran\xE7ois;Le B\x9Cuf;f.leboeuf@exemple.fr;+33 (0)7 11 22 33 "
    "44;\xC9tudiant;\"V\xE9g\xE9tarien; "
    "arrive \xE0 20h\r\npar le train\"\r\n"
    "Zo\xE9;\xC9mile-Z\xF6la;zoe@exemple;;Adulte;\r\n"
    ";;;;;\r\n"
    "Ana\xEFs;N\x92"
    "Diaye;anais@exemple.fr;0033 6 98 76 54 32;Enfant \x80 5;\r\n";

TEST(GuestCsv, ReadsAFrenchExcelExportInWindows1252) {
  const GuestCsv csv = Parse(kFrenchExcelExport);
  EXPECT_EQ(csv.encoding, "windows-1252");
  EXPECT_THAT(csv.ignored_columns, ElementsAre("Commentaire"));
  EXPECT_EQ(csv.records, 4);
  EXPECT_THAT(csv.errors,
              ElementsAre(RowError{5, "email", "'zoe@exemple' is not an email address"}));
  ASSERT_EQ(csv.rows.size(), 3u);
  EXPECT_EQ(csv.rows[0].line, 2);
  EXPECT_EQ(csv.rows[0].first_name, "H\xC3\xA9l\xC3\xA8ne");
  EXPECT_EQ(csv.rows[0].last_name, "M\xC3\xBCller");
  EXPECT_EQ(csv.rows[0].phone, "+33612345678");
  EXPECT_EQ(csv.rows[0].ticket_type, "Adulte");
  EXPECT_EQ(csv.rows[1].line, 3);
  EXPECT_EQ(csv.rows[1].first_name, "Fran\xC3\xA7ois");
  EXPECT_EQ(csv.rows[1].last_name, "Le B\xC5\x93uf");  // œ is 0x9C in Windows-1252
  EXPECT_EQ(csv.rows[1].phone, "+33711223344");
  EXPECT_EQ(csv.rows[1].ticket_type, "\xC3\x89tudiant");
  EXPECT_EQ(csv.rows[2].line, 7);
  EXPECT_EQ(csv.rows[2].first_name, "Ana\xC3\xAFs");
  EXPECT_EQ(csv.rows[2].last_name,
            "N\xE2\x80\x99"
            "Diaye");  // ’
  EXPECT_EQ(csv.rows[2].phone, "+33698765432");
  EXPECT_EQ(csv.rows[2].ticket_type, "Enfant \xE2\x82\xAC 5");  // €
}

TEST(GuestCsv, TheSameExportSavedAsCsvUtf8GivesTheSameRows) {
  // The export converted to UTF-8 (as "CSV UTF-8" would write it, BOM included).
  const Result<std::string> utf8 = Windows1252ToUtf8(kFrenchExcelExport);
  ASSERT_TRUE(utf8.ok()) << utf8.status();
  const GuestCsv from_utf8 = Parse(StrCat("\xEF\xBB\xBF", *utf8));
  const GuestCsv from_1252 = Parse(kFrenchExcelExport);
  EXPECT_EQ(from_utf8.encoding, "utf-8");
  ASSERT_EQ(from_utf8.rows.size(), from_1252.rows.size());
  for (size_t i = 0; i < from_utf8.rows.size(); ++i) {
    EXPECT_EQ(from_utf8.rows[i].first_name, from_1252.rows[i].first_name);
    EXPECT_EQ(from_utf8.rows[i].last_name, from_1252.rows[i].last_name);
    EXPECT_EQ(from_utf8.rows[i].line, from_1252.rows[i].line);
  }
  EXPECT_EQ(from_utf8.errors, from_1252.errors);
}

TEST(GuestCsv, Windows1252DecodingAgreesWithTheDocsEncoder) {
  int checked = 0;
  for (int b = 0x20; b <= 0xFF; ++b) {
    if (b == 0x7F || b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D) continue;
    const std::string byte(1, static_cast<char>(b));
    const Result<std::string> utf8 = Windows1252ToUtf8(byte);
    ASSERT_TRUE(utf8.ok()) << b;
    std::string back;
    ASSERT_TRUE(docs::ToCp1252(*utf8, back)) << b;
    EXPECT_EQ(back, byte) << b;
    ++checked;
  }
  EXPECT_EQ(checked, 218);
}

TEST(GuestCsv, RefusesBytesThatAreNeitherUtf8NorWindows1252) {
  EXPECT_EQ(FileError("name,email\nJ\xE9r\xF4me X,j@exemple.fr\nA\x81 B,a@exemple.fr\n"),
            "line 3: byte 0x81 is neither UTF-8 nor Windows-1252; save the file as \"CSV UTF-8\"");
  const Result<std::string> undefined = Windows1252ToUtf8("ok\r\n\x9D");
  ASSERT_FALSE(undefined.ok());
  EXPECT_THAT(std::string(ToStd(undefined.status().message())), HasSubstr("line 2: byte 0x9D"));
}

TEST(GuestCsv, RefusesAFileWithAUtf8BomThatIsNotUtf8) {
  EXPECT_EQ(FileError("\xEF\xBB\xBFname,email\r\nJ\xE9r\xF4me X,j@exemple.fr\r\n"),
            "line 2: the file starts with a UTF-8 byte order mark but is not valid UTF-8");
}

TEST(GuestCsv, RefusesUtf16) {
  EXPECT_THAT(FileError(std::string_view("\xFF\xFEn\0a\0m\0e\0", 10)), HasSubstr("UTF-16"));
}

TEST(GuestCsv, ValidUtf8IsNeverReadAsWindows1252) {
  // C3 A9 is "é" in UTF-8 and "Ã©" in Windows-1252: valid UTF-8 wins.
  const GuestCsv csv = Parse("name,email\n\xC3\xA9lodie Martin,e@exemple.fr\n");
  EXPECT_EQ(csv.encoding, "utf-8");
  ASSERT_EQ(csv.rows.size(), 1u);
  EXPECT_EQ(csv.rows[0].first_name, "\xC3\xA9lodie");
}

// --- Header -----------------------------------------------------------------------------------

TEST(GuestCsv, MapsHeaderAliasesIgnoringCaseAccentsAndSpaces) {
  const auto first_name = [](std::string_view label) {
    return Parse(StrCat(label, ";email\nJean;j@exemple.fr\n")).rows;
  };
  for (std::string_view label : {"first_name", "FirstName", "First Name", " first-name ",
                                 "Pr\xC3\xA9nom", "PR\xC3\x89NOM", "prenom", "Given name"}) {
    SCOPED_TRACE(label);
    const std::vector<GuestRow> rows = first_name(label);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].first_name, "Jean");
  }
  for (std::string_view label : {"last_name", "LASTNAME", "Last name", "Nom", "Nom de famille",
                                 "Surname", "family_name", "NOM  DE  FAMILLE"}) {
    SCOPED_TRACE(label);
    const std::vector<GuestRow> rows = Parse(StrCat(label, ";email\nDupont;j@exemple.fr\n")).rows;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].last_name, "Dupont");
  }
  for (std::string_view label : {"name", "Full Name", "full_name", "Nom complet"}) {
    SCOPED_TRACE(label);
    const std::vector<GuestRow> rows =
        Parse(StrCat(label, ";email\nJean Dupont;j@exemple.fr\n")).rows;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].first_name, "Jean");
    EXPECT_EQ(rows[0].last_name, "Dupont");
  }
  for (std::string_view label : {"email", "E-mail", "E-Mail", "MAIL", "Courriel", "Adresse email",
                                 "Adresse e-mail", "e_mail"}) {
    SCOPED_TRACE(label);
    const std::vector<GuestRow> rows =
        Parse(StrCat("prenom;", label, "\nJean;J@Exemple.fr\n")).rows;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].email, "j@exemple.fr");
  }
  for (std::string_view label : {"phone", "Telephone", "T\xC3\xA9l\xC3\xA9phone", "TEL",
                                 "T\xC3\xA9l.", "Mobile", "Portable"}) {
    SCOPED_TRACE(label);
    const std::vector<GuestRow> rows =
        Parse(StrCat("prenom;", label, "\nJean;06 12 34 56 78\n")).rows;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].phone, "+33612345678");
  }
  for (std::string_view label :
       {"ticket_type", "Ticket Type", "type", "Cat\xC3\xA9gorie", "CATEGORIE", "Billet"}) {
    SCOPED_TRACE(label);
    const std::vector<GuestRow> rows =
        Parse(StrCat("prenom;email;", label, "\nJean;j@exemple.fr;VIP\n")).rows;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].ticket_type, "VIP");
  }
}

TEST(GuestCsv, ListsUnknownColumnsAndIgnoresTheirContent) {
  const GuestCsv csv = Parse(
      "Soci\xC3\xA9t\xC3\xA9,first_name,,email,Notes\n"
      "ACME\x01,Jean,x,j@exemple.fr,\"multi\nline\"\n");
  EXPECT_THAT(csv.ignored_columns, ElementsAre("Soci\xC3\xA9t\xC3\xA9", "Notes"));
  EXPECT_THAT(csv.errors, IsEmpty());
  EXPECT_EQ(csv.rows.size(), 1u);
}

TEST(GuestCsv, AFullNameColumnIsIgnoredWhenThereAreFirstOrLastNameColumns) {
  const GuestCsv csv = Parse("Nom complet;Nom;email\nJean Dupont;Martin;j@exemple.fr\n");
  EXPECT_THAT(csv.ignored_columns, ElementsAre("Nom complet"));
  ASSERT_EQ(csv.rows.size(), 1u);
  EXPECT_EQ(csv.rows[0].first_name, "");
  EXPECT_EQ(csv.rows[0].last_name, "Martin");
}

TEST(GuestCsv, SplitsAFullNameAtItsLastSpace) {
  const GuestCsv csv = Parse(
      "name,email\n"
      "Jean de La Fontaine,a@exemple.fr\n"
      "  Madonna  ,b@exemple.fr\n"
      "Jean   Dupont,c@exemple.fr\n");
  ASSERT_EQ(csv.rows.size(), 3u);
  EXPECT_EQ(csv.rows[0].first_name, "Jean de La");
  EXPECT_EQ(csv.rows[0].last_name, "Fontaine");
  EXPECT_EQ(csv.rows[1].first_name, "Madonna");
  EXPECT_EQ(csv.rows[1].last_name, "");
  EXPECT_EQ(csv.rows[2].first_name, "Jean");
  EXPECT_EQ(csv.rows[2].last_name, "Dupont");
}

TEST(GuestCsv, RefusesAHeaderThatMapsAFieldTwice) {
  EXPECT_EQ(FileError("Pr\xC3\xA9nom;Email;Nom;Courriel\nJean;a@x.fr;D;b@x.fr\n"),
            "line 1: columns 2 ('Email') and 4 ('Courriel') are both the email column");
}

TEST(GuestCsv, RefusesAHeaderWithoutTheColumnsItNeeds) {
  EXPECT_THAT(FileError("first_name;last_name;ticket_type\nJean;Dupont;VIP\n"),
              HasSubstr("line 1: the header has no email or phone column"));
  EXPECT_THAT(FileError("\n\nemail;phone;type\na@x.fr;;VIP\n"),
              HasSubstr("line 3: the header has no name column"));
  EXPECT_THAT(FileError("jean@exemple.fr\n"), HasSubstr("no email or phone column"));
}

TEST(GuestCsv, RefusesAHeaderWithMoreThan1000Cells) {
  std::string header = "name,email";
  for (int i = 0; i < 998; ++i) header += ",";
  EXPECT_EQ(Parse(StrCat(header, "\nJean Dupont,j@exemple.fr\n")).rows.size(), 1u);
  EXPECT_EQ(FileError(StrCat(header, ",\nJean Dupont,j@exemple.fr\n")),
            "line 1: the header has 1001 columns; at most 1000 are accepted");
  // A data row may be as long as it likes; only its extra non-empty fields matter.
  const GuestCsv csv =
      Parse(StrCat("name,email\nJean Dupont,j@exemple.fr", std::string(100000, ','), "x\n"));
  EXPECT_THAT(csv.errors,
              ElementsAre(RowError{2, "", "the row has 100002 fields but the header has 2"}));
}

TEST(GuestCsv, RefusesAFileWithoutAHeader) {
  EXPECT_EQ(FileError(""), "the file is empty: no header line");
  EXPECT_EQ(FileError("\xEF\xBB\xBF\r\n\r\n;;;\r\n"), "the file is empty: no header line");
}

TEST(GuestCsv, AcceptsAHeaderWithoutDataRows) {
  const GuestCsv csv = Parse("first_name,email\r\n");
  EXPECT_EQ(csv.records, 0);
  EXPECT_THAT(csv.rows, IsEmpty());
  EXPECT_THAT(csv.errors, IsEmpty());
}

// --- Rows -------------------------------------------------------------------------------------

TEST(GuestCsv, TrimsFields) {
  const GuestCsv csv = Parse(
      "first_name,last_name,email,phone,ticket_type\n"
      "  Jean\t,\xC2\xA0"
      "Dupont\xC2\xA0,  J@Exemple.FR ,\" 06 12 34 56 78 \", VIP \n");
  ASSERT_EQ(csv.rows.size(), 1u);
  EXPECT_EQ(csv.rows[0].first_name, "Jean");
  EXPECT_EQ(csv.rows[0].last_name, "Dupont");
  EXPECT_EQ(csv.rows[0].email, "j@exemple.fr");
  EXPECT_EQ(csv.rows[0].phone, "+33612345678");
  EXPECT_EQ(csv.rows[0].ticket_type, "VIP");
}

TEST(GuestCsv, RequiresAFirstOrALastName) {
  EXPECT_EQ(RowProblem("Jean,,j@exemple.fr,,"), "");
  EXPECT_EQ(RowProblem(",Dupont,j@exemple.fr,,"), "");
  EXPECT_EQ(RowProblem(" , ,j@exemple.fr,,VIP"), "name: a first name or a last name is required");
}

TEST(GuestCsv, RequiresAnEmailOrAPhone) {
  EXPECT_EQ(RowProblem("Jean,,,0612345678,"), "");
  EXPECT_EQ(RowProblem("Jean,,j@exemple.fr,,"), "");
  EXPECT_EQ(RowProblem("Jean,Dupont,,,VIP"),
            "email: an email address or a phone number is required");
  const GuestCsv only_email = Parse("name,email,notes\nJean Dupont,,x\n");
  EXPECT_THAT(only_email.errors, ElementsAre(RowError{2, "email", "an email address is required"}));
  const GuestCsv only_phone = Parse("name,tel,notes\nJean Dupont,,x\n");
  EXPECT_THAT(only_phone.errors, ElementsAre(RowError{2, "phone", "a phone number is required"}));
}

TEST(GuestCsv, ChecksEmailSyntax) {
  for (std::string_view good : {"jean.dupont@exemple.fr", "j+tag@sub.exemple.co.uk",
                                "o'neil@exemple.ie", "A.B@EXEMPLE.FR"}) {
    EXPECT_EQ(RowProblem(StrCat("Jean,,", good, ",,")), "") << good;
  }
  for (std::string_view bad :
       {"jean.dupont@", "@exemple.fr", "jean", "jean@exemple", "jean@@exemple.fr", "a@b@exemple.fr",
        "jean dupont@exemple.fr", "jean@exe mple.fr", "jean..d@exemple.fr",
        "j\xC3\xA9r\xC3\xB4me@exemple.fr", "Jean <jean@exemple.fr>", "<jean@exemple.fr>",
        "jean@exemple.fr.", "jean@-exemple.fr"}) {
    EXPECT_EQ(RowProblem(StrCat("Jean,,\"", bad, "\",,")),
              StrCat("email: '", bad, "' is not an email address"));
  }
  const std::string local64(64, 'a'), local65(65, 'a');
  EXPECT_EQ(RowProblem(StrCat("Jean,,", local64, "@exemple.fr,,")), "");
  EXPECT_THAT(RowProblem(StrCat("Jean,,", local65, "@exemple.fr,,")),
              HasSubstr("is not an email address"));
  std::string long_domain;
  while (long_domain.size() < 250) long_domain += "abcdefghij.";
  EXPECT_THAT(RowProblem(StrCat("Jean,,a@", long_domain, "fr,,")),
              HasSubstr("...' is not an email address"));  // quoted value clipped to 80 bytes
}

TEST(GuestCsv, NormalisesPhonesToE164) {
  struct Case {
    std::string_view in, region, out;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"+33 6 12 34 56 78", "FR", "+33612345678"},
           {"06 12 34 56 78", "FR", "+33612345678"},
           {"06.12.34.56.78", "FR", "+33612345678"},
           {"06-12-34-56-78", "FR", "+33612345678"},
           {"0033612345678", "FR", "+33612345678"},
           {"00 33 6 12 34 56 78", "FR", "+33612345678"},
           {"+33 (0)6 12 34 56 78", "FR", "+33612345678"},
           {"+33\xC2\xA0"
            "6\xE2\x80\xAF"
            "12 34 56 78",
            "FR", "+33612345678"},
           {"01 23 45 67 89", "FR", "+33123456789"},
           {"+1 (415) 555-2671", "FR", "+14155552671"},
           {"+44 20 7946 0958", "FR", "+442079460958"},
           {"+32 470 12 34 56", "FR", "+32470123456"},
           {"0470 12 34 56", "BE", "+32470123456"},
           {"02 123 45 67", "BE", "+3221234567"},
           {"078 123 45 67", "CH", "+41781234567"},
           {"+33 6 12 34 56 78", "", "+33612345678"},
       }) {
    const Result<std::string> e164 = NormalizeGuestPhone(c.in, c.region);
    ASSERT_TRUE(e164.ok()) << c.in << " " << e164.status();
    EXPECT_EQ(*e164, c.out) << c.in;
  }
  for (const Case& c : std::initializer_list<Case>{
           {"06 12 34 56", "FR", ""},         // too short
           {"06 12 34 56 78 9", "FR", ""},    // too long
           {"00 12 34 56", "FR", ""},         // "+123456": too short for E.164
           {"+33 06 12 34 56 78", "FR", ""},  // trunk 0 after the country code
           {"+33 6 12 34 56", "FR", ""},      // +33 needs 9 digits
           {"33612345678", "FR", ""},         // country code without + or 00
           {"06 12 34 56 78", "", ""},        // national form without a region
           {"0612345678 ext 12", "FR", ""},   // letters
           {"+33 6 12 34 56 78 / 06", "FR", ""},
           {"++33612345678", "FR", ""},
           {"+0612345678", "FR", ""},
           {"+", "FR", ""},
           {"()", "FR", ""},
           {"3.36123E+11", "FR", ""},        // Excel's scientific notation
           {"+1234567890123456", "FR", ""},  // 16 digits
       }) {
    const Result<std::string> e164 = NormalizeGuestPhone(c.in, c.region);
    EXPECT_FALSE(e164.ok()) << c.in << " -> " << (e164.ok() ? *e164 : "");
  }
  EXPECT_EQ(RowProblem("Jean,,,06 12 34,"),
            "phone: '06 12 34' is not a phone number (expected an international number such as "
            "+33 6 12 34 56 78, or a national FR number such as 06 12 34 56 78)");
  EXPECT_EQ(RowProblem("Jean,,,612345678,"),
            "phone: '612345678' is not a phone number (did the spreadsheet drop its leading 0? "
            "write 0612345678 or +33612345678)");
  GuestCsvOptions international;
  international.default_region = "";
  const GuestCsv csv = Parse("name,phone\nJean Dupont,06 12 34 56 78\n", international);
  EXPECT_THAT(csv.errors, ElementsAre(RowError{
                              2, "phone",
                              "'06 12 34 56 78' is not a phone number (expected an international "
                              "number such as +33 6 12 34 56 78)"}));
}

TEST(GuestCsv, RefusesAnUnsupportedDefaultRegion) {
  GuestCsvOptions options;
  options.default_region = "DE";
  EXPECT_EQ(FileError("name,email\n", options),
            "unsupported default region 'DE' (FR, BE, CH or none)");
  EXPECT_FALSE(NormalizeGuestPhone("+33612345678", "fr").ok());
}

TEST(GuestCsv, BoundsFieldLengthsInCharacters) {
  std::string e100, e101;
  for (int i = 0; i < 100; ++i) e100 += "\xC3\xA9";  // 100 characters, 200 bytes
  e101 = e100 + "e";
  EXPECT_EQ(RowProblem(StrCat(e100, ",", e100, ",j@exemple.fr,,")), "");
  EXPECT_THAT(RowProblem(StrCat(e101, ",,j@exemple.fr,,")),
              HasSubstr("first_name: '\xC3\xA9\xC3\xA9"));
  EXPECT_THAT(RowProblem(StrCat(e101, ",,j@exemple.fr,,")),
              HasSubstr("...' is longer than 100 characters"));
  EXPECT_THAT(RowProblem(StrCat("Jean,", e101, ",j@exemple.fr,,")), HasSubstr("last_name: "));
  const GuestCsv full = Parse(StrCat("name,email\n", e100, " ", e101, ",j@exemple.fr\n"));
  ASSERT_EQ(full.errors.size(), 1u);
  EXPECT_EQ(full.errors[0].field, "name");
  const std::string t64(64, 't'), t65(65, 't');
  EXPECT_EQ(RowProblem(StrCat("Jean,,j@exemple.fr,,", t64)), "");
  EXPECT_EQ(RowProblem(StrCat("Jean,,j@exemple.fr,,", t65)),
            StrCat("ticket_type: '", t65, "' is longer than 64 characters"));
}

TEST(GuestCsv, RefusesControlCharactersInMappedFields) {
  const std::string kMessage = "contains a control character (such as a line break or a tab)";
  EXPECT_EQ(RowProblem("\"Jean\nPierre\",,j@exemple.fr,,"), StrCat("first_name: ", kMessage));
  EXPECT_EQ(RowProblem("Jean,Du\tpont,j@exemple.fr,,"), StrCat("last_name: ", kMessage));
  EXPECT_EQ(RowProblem(StrCat("Jean,,j@exemple.fr", std::string_view("\0", 1), ",,")),
            StrCat("email: ", kMessage));
  EXPECT_EQ(RowProblem("Jean,,j@exemple.fr,06\x7F,"), StrCat("phone: ", kMessage));
  EXPECT_EQ(RowProblem("Jean,,j@exemple.fr,,VIP\xC2\x85"), StrCat("ticket_type: ", kMessage));
  // Surrounding line breaks are trimmed like spaces.
  EXPECT_EQ(RowProblem("\"\nJean\r\n\",,j@exemple.fr,,"), "");
}

TEST(GuestCsv, HandlesRowsWithTheWrongNumberOfFields) {
  const GuestCsv csv = Parse(
      "first_name;last_name;email;phone\n"
      "Jean;Dupont;a@exemple.fr\n"              // missing trailing field: empty
      "Marie;Curie\n"                           // missing email and phone
      "Luc;Martin;b@exemple.fr;;;;\n"           // extra empty fields: fine
      "Ana;Lima;c@exemple.fr;; ;surprise;\n");  // an extra non-empty field
  EXPECT_THAT(Lines(csv.rows), ElementsAre(2, 4));
  EXPECT_THAT(csv.errors,
              ElementsAre(RowError{3, "email", "an email address or a phone number is required"},
                          RowError{5, "", "the row has 7 fields but the header has 4"}));
}

TEST(GuestCsv, RefusesADuplicateEmailNamingTheFirstLine) {
  const GuestCsv csv = Parse(
      "name,email\n"
      "Jean Dupont,jean@exemple.fr\n"
      "Bad Row,\"x@\"\n"
      "Jean D,JEAN@Exemple.fr\n"
      "Bad Again,x@\n"
      "Ok Now,x@exemple.fr\n"
      "Rejected,y@exemple.fr\x01\n"
      "Not A Duplicate,y@exemple.fr\n");
  EXPECT_THAT(Lines(csv.rows), ElementsAre(2, 6, 8));
  ASSERT_EQ(csv.errors.size(), 4u);
  EXPECT_EQ(csv.errors[1], (RowError{4, "email", "'JEAN@Exemple.fr' is already on line 2"}));
}

TEST(GuestCsv, RefusesAFileLargerThanMaxBytes) {
  GuestCsvOptions options;
  options.max_bytes = 20;
  EXPECT_EQ(FileError("name,email\nJean Dupont,j@exemple.fr\n", options),
            "the file is 36 bytes; at most 20 are accepted");
  const std::string big((5 << 20) + 1, ' ');
  EXPECT_THAT(FileError(big), HasSubstr("at most 5242880 are accepted"));
}

TEST(GuestCsv, RefusesMoreThan50000Rows) {
  std::string text = "Pr\xC3\xA9nom;Courriel\r\n";
  for (int i = 1; i <= 50000; ++i)
    text += StrCat("Invit\xC3\xA9 ", i, ";guest", i, "@exemple.fr\r\n");
  text += ";\r\n\r\n";  // empty rows do not count
  const GuestCsv csv = Parse(text);
  EXPECT_EQ(csv.records, 50000);
  EXPECT_EQ(csv.rows.size(), 50000u);
  EXPECT_EQ(csv.rows.back().line, 50001);
  text += "One Too Many;extra@exemple.fr\r\n";
  EXPECT_EQ(FileError(text),
            "the file has more than 50000 guest rows; split it into smaller files");
}

TEST(GuestCsv, ReportsTheExactErrorsOfAMixedFile) {
  const GuestCsv csv = Parse(
      "Pr\xC3\xA9nom;Nom;E-mail;Mobile;Billet;Remarques\r\n"
      "Jean;Dupont;jean.dupont@exemple.fr;06 12 34 56 78;VIP;\r\n"            // 2 ok
      "Claire;Morel;jean.dupont@;;Standard;\r\n"                              // 3 email
      "Paul;;;06 12;Standard;\r\n"                                            // 4 phone
      ";;paul@exemple.fr;;Standard;\r\n"                                      // 5 name
      "\"Sophie\";\"Bernard\";;;\"Standard\";\"allergie;\r\narachides\"\r\n"  // 6-7 contact
      ";;;;;\r\n"                                                             // 8 empty
      "L\xC3\xA9"
      "a;Petit;lea@exemple.fr;+33 7 12 34 56 78;Standard;\r\n"        // 9 ok
      "Hugo;Roux;JEAN.DUPONT@exemple.fr;;VIP;\r\n"                    // 10 duplicate
      "Emma;Leroy;emma@exemple.fr;;VIP;;extra\r\n"                    // 11 extra field
      "In\xC3\xA8s;Faure;ines@exemple.fr;0033 6 00 11 22 33;;\r\n");  // 12 ok
  EXPECT_EQ(csv.records, 9);
  EXPECT_THAT(csv.ignored_columns, ElementsAre("Remarques"));
  EXPECT_THAT(Lines(csv.rows), ElementsAre(2, 9, 12));
  EXPECT_EQ(csv.rows[2].phone, "+33600112233");
  EXPECT_THAT(
      csv.errors,
      ElementsAre(
          RowError{3, "email", "'jean.dupont@' is not an email address"},
          RowError{4, "phone",
                   "'06 12' is not a phone number (expected an international number such as "
                   "+33 6 12 34 56 78, or a national FR number such as 06 12 34 56 78)"},
          RowError{5, "name", "a first name or a last name is required"},
          RowError{6, "email", "an email address or a phone number is required"},
          RowError{10, "email", "'JEAN.DUPONT@exemple.fr' is already on line 2"},
          RowError{11, "", "the row has 7 fields but the header has 6"}));
}

}  // namespace
}  // namespace herald::apps::tickets
