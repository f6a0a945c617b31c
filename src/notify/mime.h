#pragma once
// Builds complete RFC 5322 / MIME email messages for transactional notifications: the bytes to
// hand to an SMTP client as the DATA payload. Every line ends with CRLF and is at most 998
// characters (header lines are folded near 78 where the content allows, body lines are at most
// 76). The SMTP client does dot-stuffing and the final "." line; this module does not.
//
// Structure, outermost first, each level present only when needed:
//   multipart/mixed        when there are attachments without a content_id
//   multipart/related      when there are inline attachments (with a content_id)
//   multipart/alternative  when there are both a text and an html body
//   text/plain, text/html  (charset=utf-8, quoted-printable)
// A message with one body and no attachments is a single part. Attachments are base64.
//
// Header-bound text (subject, display names, filenames, extra headers) is checked for header
// injection: CR or LF anywhere is InvalidArgument naming the field, as is any other control
// character except TAB. Non-ASCII subjects and display names become RFC 2047 encoded-words
// (=?UTF-8?B?...?=, at most 75 characters each, never splitting a UTF-8 character); non-ASCII
// filenames use RFC 2231 (filename*=UTF-8''...) with an RFC 2047 name= fallback on the
// Content-Type. All text must be valid UTF-8 (core/utf8.h).
//
// Addresses are restricted to what every relay accepts: a dot-atom local part of ASCII atext
// (no quoted local parts, no SMTPUTF8), at most 64 bytes, and a domain of LDH labels (give
// internationalised domains as A-labels, "xn--..."), at most 254 bytes in all. Domain literals
// ([192.0.2.1]) are refused.
//
// All functions are thread-safe (they share no state; random values come from OpenSSL).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/status.h"

namespace herald::notify {

inline constexpr size_t kMaxLocalPartBytes = 64;
inline constexpr size_t kMaxAddressBytes = 254;
inline constexpr size_t kMaxFilenameBytes = 255;
inline constexpr size_t kMaxUnsubscribeBytes = 900;

struct MailAddress {
  std::string email;  // addr-spec, e.g. "jane@example.com"
  std::string name;   // display name, UTF-8; optional

  friend bool operator==(const MailAddress&, const MailAddress&) = default;
};

struct Attachment {
  // Required, UTF-8, at most kMaxFilenameBytes bytes; shown to the recipient.
  std::string filename;
  // "type/subtype" with optional "; attr=value" parameters (e.g. "text/calendar;
  // method=REQUEST"). Empty: guessed from the filename's extension (GuessContentType).
  std::string content_type;
  // Raw bytes.
  std::string data;
  // Optional. When set the part is inline: "Content-ID: <content_id>" and "Content-Disposition:
  // inline", referenced from the html as "cid:<content_id>", and placed in multipart/related.
  // Printable ASCII without spaces, '<', '>', '"' or '\', at most 250 bytes; unique per message.
  std::string content_id;
};

struct MailMessage {
  MailAddress from;  // required
  // At least one address in to or cc. Blind copies are envelope-only: give them to the SMTP
  // client as recipients; they never appear in the message.
  std::vector<MailAddress> to;
  std::vector<MailAddress> cc;
  std::optional<MailAddress> reply_to;
  std::string subject;  // UTF-8; may be empty
  std::string text;     // text/plain body, UTF-8; LF or CRLF line breaks
  std::string html;     // text/html body, UTF-8; at least one of text and html is required
  std::vector<Attachment> attachments;
  // Optional http(s) URL, at most kMaxUnsubscribeBytes bytes, printable ASCII without '<', '>'
  // or '"'. Adds "List-Unsubscribe: <url>" and, for https, "List-Unsubscribe-Post:
  // List-Unsubscribe=One-Click" (RFC 8058; the sender must also DKIM-sign both headers).
  std::string list_unsubscribe_url;
  // Optional "mailto:addr[?query]" or a bare address (then "mailto:" is prepended); listed after
  // the URL in List-Unsubscribe.
  std::string list_unsubscribe_mailto;
  // Extra header fields, emitted in order after the standard ones. The name is 1 to 76
  // printable ASCII characters other than ':'; the value printable ASCII, spaces and tabs (it
  // is trimmed and folded at whitespace, never encoded). Names this module writes are refused:
  // Date, From, To, Cc, Bcc, Reply-To, Subject, Message-ID, MIME-Version, List-Unsubscribe,
  // List-Unsubscribe-Post and every Content-* (case-insensitive).
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

struct BuildOptions {
  // Required: the Date header, written in UTC ("Sun, 15 Mar 2026 08:05:09 +0000"). Pass the
  // injected Clock's Now(). Must be finite, in years 1900 to 9999.
  absl::Time date;
  // Domain of the Message-ID ("<random@domain>"). Empty: the domain of from.email.
  std::string message_id_domain;
  // Empty (production): boundaries and the Message-ID's left part are 128-bit random values;
  // boundaries start with "=_", which quoted-printable and base64 never produce, so they
  // cannot collide with content. Non-empty (tests): 1 to 50 characters of [A-Za-z0-9_-];
  // boundaries are "<seed>-mixed", "<seed>-related", "<seed>-alternative"; the Message-ID is
  // "<seed>@domain", so the output is a pure function of (message, options). If a seeded
  // boundary occurs in a part's content, BuildMessage fails with InvalidArgument.
  std::string boundary_seed;
};

struct BuiltMessage {
  std::string message_id;  // without the angle brackets, e.g. "3f2a...@example.com"
  std::string data;        // the whole message, CRLF line endings, ending with CRLF
};

// Builds the message. Headers, in order: Date, From, To, Cc, Reply-To, Subject, Message-ID,
// List-Unsubscribe, List-Unsubscribe-Post, the extra headers, MIME-Version: 1.0, then the
// top-level Content-Type (and Content-Transfer-Encoding for a single part).
// Errors: InvalidArgument naming the field ("to[1].email: ...", "subject contains CR or LF",
// "attachments[0].filename is empty", "text is not valid UTF-8", ...) for anything the rules
// above refuse; Internal if the random generator fails.
Result<BuiltMessage> BuildMessage(const MailMessage& message, const BuildOptions& options);

// Parses "jane@example.com", "Jane Doe <jane@example.com>", "\"Doe, Jane\" <jane@example.com>"
// or "<jane@example.com>", with surrounding spaces and tabs ignored. A quoted display name
// takes backslash escapes; an unquoted one is kept verbatim (trimmed) and may not contain '"',
// '<' or '>'. Encoded-words are not decoded. The address follows the rules at the top of this
// file. Errors: InvalidArgument for anything else, including CR, LF, NUL or any other control
// character except TAB in the name, and invalid UTF-8.
Result<MailAddress> ParseMailAddress(std::string_view text);

// The content type for a filename's extension (case-insensitive): pdf, png, jpg/jpeg, gif,
// svg, txt, csv, htm/html, ics, xlsx, docx, zip, json; otherwise "application/octet-stream".
std::string_view GuessContentType(std::string_view filename);

// Quoted-printable (RFC 2045 section 6.7) for a UTF-8 text body. LF and CRLF in `text` are
// hard line breaks (written as CRLF); a lone CR is encoded. '=' and every byte outside
// printable ASCII are =XX; a space or tab before a line break is encoded too. Encoded lines
// are at most 76 characters, split with soft line breaks ("=" CRLF) that never cut an =XX.
// The result is empty or ends with CRLF: a soft line break closes a text that does not end
// with a line break, so decoding gives back `text` exactly (line breaks as CRLF).
std::string EncodeQuotedPrintable(std::string_view text);

// Base64 (RFC 2045 section 6.8) in lines of 76 characters, each ending with CRLF (the last
// one may be shorter). Empty for empty input.
std::string EncodeBase64Lines(std::string_view bytes);

}  // namespace herald::notify
