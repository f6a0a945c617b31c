#pragma once
// Guest-list import: parses and validates the CSV file an organiser exports from Excel,
// LibreOffice or Google Sheets, keeping the good rows and reporting every bad one precisely
// ("line 14, email: 'jean.dupont@' is not an email address"). Parsing and validation only:
// storing the guests is the caller's job.
//
// Encoding. A UTF-8 BOM (EF BB BF) is skipped. Then:
//   - bytes that are valid UTF-8 (core/utf8.h: no overlong forms, no surrogates) are read as
//     UTF-8, encoding "utf-8";
//   - otherwise the WHOLE file is read as Windows-1252 (what Excel for Windows writes for
//     "CSV (separated by ...)"), encoding "windows-1252", every byte converted to UTF-8. Pure
//     ASCII is the same in both, and real Windows-1252 text with accents is almost never valid
//     UTF-8 by accident (é then a letter is an invalid sequence), so the rule is safe in
//     practice. A file mixing both encodings is read as Windows-1252 (its UTF-8 parts come out
//     as mojibake, e.g. "Ã©"): nothing better can be done without guessing line by line.
// InvalidArgument for a file that starts with a UTF-8 BOM but is not valid UTF-8, for a
// UTF-16 BOM (Excel's "Unicode text": save as "CSV UTF-8" instead), and for the five bytes
// Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) in a file that is not UTF-8.
//
// CSV (RFC 4180, read leniently as spreadsheets write it):
//   - records end with CRLF, LF or CR; a quoted field ("...", with "" for a quote) may hold the
//     delimiter and line breaks. Line numbers count physical lines (each CRLF, LF or CR is one
//     break, inside quotes too); a record's line is the one it starts on.
//   - Spaces before an opening quote are ignored (a, "b"); text after a closing quote is
//     appended as is ("a"b reads ab, as in Excel); a quote inside an unquoted field is literal.
//   - A quote that is never closed makes the rest of the file unreadable: one RowError (field
//     "") at the line where that quote opened; the rows before it are kept.
//   - The delimiter is ',', ';' or tab: whichever occurs most often outside quotes in the
//     header line, ties going to ';', then tab, then ','.
//   - The header is the first record that is not empty. A record is empty when every field is
//     empty after trimming (";;;" lines from Excel included); empty records are skipped
//     silently anywhere, and trailing ones are not records at all.
//
// Header. Each cell is trimmed, lower-cased, stripped of Latin accents ("Prénom" = "prenom"),
// with '_', '-' and '.' read as spaces and runs of spaces collapsed, then looked up:
//   first_name   first name, firstname, prenom, given name
//   last_name    last name, lastname, nom, nom de famille, surname, family name
//   name         name, full name, nom complet (used only when there is neither a first_name
//                nor a last_name column: split at its last space into first and last name, a
//                single word being the first name; otherwise it is listed as ignored)
//   email        email, e mail, mail, courriel, adresse email, adresse e mail
//   phone        phone, telephone, tel, mobile, portable
//   ticket_type  ticket type, type, categorie, billet
// Other non-empty cells are ignored and listed in `ignored_columns`, as written in the file.
// InvalidArgument when two cells map to the same field, when there is no email and no phone
// column, or when there is no name column (first_name, last_name or name).
//
// Rows. Each data record gives either one GuestRow or one RowError: the first problem found,
// checked in this order (so `rows.size() + errors.size() <= records`):
//   ""            more non-empty fields than header cells (missing trailing fields are empty;
//                 extra empty ones, as Excel writes, are fine);
//   <field>       a control character (below U+0020, DEL, U+0080..U+009F) in a mapped field,
//                 tab and line breaks included; then for first_name and last_name (or name)
//                 more than 100 characters, for ticket_type more than 64;
//   email         not a bare address as the mail module accepts it (notify::ParseMailAddress:
//                 dot-atom ASCII local part of at most 64 bytes, LDH domain, 254 bytes in
//                 all), or a domain without a dot;
//   phone         not a number NormalizeGuestPhone accepts;
//   name          neither a first nor a last name;
//   email/phone   neither an email nor a phone (the field is "email" when there is an email
//                 column, else "phone");
//   email         the same email (case-insensitive) as an earlier imported row: the message
//                 names that row's line. A duplicate of a rejected row is not an error.
// Fields are trimmed of spaces, tabs and no-break spaces (U+00A0, U+202F) first. Emails are
// lower-cased (as ContactStore stores them); phones normalised to E.164.
// Error messages quote the offending value, clipped to 80 bytes, and are meant for the
// organiser as they are: "'jean.dupont@' is not an email address".
//
// Thread-safe (pure functions).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace herald::apps::tickets {

struct GuestRow {
  int line = 0;  // 1-based physical line where the record starts
  std::string first_name, last_name;
  std::string email;  // lower-cased, or ""
  std::string phone;  // E.164, or ""
  std::string ticket_type;
};

struct RowError {
  int line = 0;
  // "first_name", "last_name", "name", "email", "phone" or "ticket_type"; "" = the whole row.
  std::string field;
  std::string message;

  friend bool operator==(const RowError&, const RowError&) = default;
};

struct GuestCsv {
  std::vector<GuestRow> rows;                // in file order
  std::vector<RowError> errors;              // in file order, at most one per record
  int records = 0;                           // data records: non-empty records after the header
  std::vector<std::string> ignored_columns;  // header cells that map to no field
  std::string encoding;                      // "utf-8" or "windows-1252"
};

struct GuestCsvOptions {
  size_t max_bytes = 5 << 20;  // of the file as uploaded
  int max_rows = 50000;        // data records (empty ones not counted)
  // The country of numbers written in national form ("06 12 34 56 78"): "FR", "BE", "CH", or
  // "" to accept only international forms. See NormalizeGuestPhone.
  std::string default_region = "FR";
};

// Parses and validates a guest list (see the top of this file). InvalidArgument only when
// the file as a whole is unusable: larger than max_bytes, an encoding problem, no header, a
// header without the columns needed, with a field twice or with more than 1000 cells, more
// than max_rows data records, or an unterminated quote in the header; also for a
// default_region not listed above. Row problems go to `errors`. Messages name the line where
// there is one ("line 1: columns 2 ('Email') and 4 ('Courriel') are both the email column").
Result<GuestCsv> ParseGuestCsv(std::string_view text, const GuestCsvOptions& options = {});

// A phone number as written by a person or a spreadsheet, to E.164. Spaces (no-break ones
// too), '.', '-', '/' and parentheses are ignored, and so is a "(0)" after the country code
// ("+33 (0)6 12 34 56 78"). Accepted, once those are removed:
//   +<digits>    international form;
//   00<digits>   international form with the European access prefix ("0033612345678");
//   0<digits>    national form of `default_region`: FR 0 + 9 digits (+33), BE 0 + 8 or 9
//                digits (+32), CH 0 + 9 digits (+41); refused when the region is "".
// The result must pass notify::IsE164 ('+', 8 to 15 digits, no leading 0) and, for +33, +32
// and +41, have the national length above with a first digit other than 0 (so
// "+33 06 12 34 56 78" is refused). Anything else, letters and extensions included, is
// InvalidArgument with a message for the organiser, quoting the number; a hint is added for a
// French number whose leading 0 a spreadsheet dropped ("612345678").
// `default_region` must be "FR", "BE", "CH" or "" (InvalidArgument otherwise).
Result<std::string> NormalizeGuestPhone(std::string_view text, std::string_view default_region);

// Windows-1252 bytes as UTF-8 (0x80..0x9F by Microsoft's table, 0xA0..0xFF as Latin-1).
// InvalidArgument naming the 1-based line of the first of the five undefined bytes.
Result<std::string> Windows1252ToUtf8(std::string_view bytes);

}  // namespace herald::apps::tickets
