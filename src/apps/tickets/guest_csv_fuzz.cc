// libFuzzer target for ParseGuestCsv: any bytes either fail with InvalidArgument and a message,
// or give a result where every row and error has a line >= 1, rows and errors never share a
// line, lines increase through each list, rows + errors <= records <= max_rows, and every row
// satisfies the documented row rules (a name, an email or an E.164 phone, no control
// characters, valid UTF-8, bounded lengths, unique emails). The first byte picks a header to
// put in front of the rest (or none), so short random inputs reach the row checks too.

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "apps/tickets/guest_csv.h"
#include "core/utf8.h"
#include "notify/sms_providers.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool CleanText(std::string_view s, size_t max_chars) {
  size_t n = 0;
  if (!herald::core::CountUtf8(s, n) || n > max_chars) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  return s.empty() || (s.front() != ' ' && s.back() != ' ');
}

constexpr std::string_view kHeaders[] = {
    "",
    "first_name,last_name,email,phone,ticket_type\n",
    "Pr\xC3\xA9nom;Nom;Courriel;T\xC3\xA9l\xC3\xA9phone;Cat\xC3\xA9gorie\r\n",
    "Name\tE-mail\tMobile\tNotes\n",
    "nom complet,mail\r",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text;
  if (size > 0) {
    text = kHeaders[data[0] % std::size(kHeaders)];
    text.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  }
  herald::apps::tickets::GuestCsvOptions options;
  options.max_rows = 40;
  options.max_bytes = 1 << 16;
  const herald::Result<herald::apps::tickets::GuestCsv> csv =
      herald::apps::tickets::ParseGuestCsv(text, options);
  if (!csv.ok()) {
    Check(csv.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!csv.status().message().empty());
    return 0;
  }
  Check(csv->encoding == "utf-8" || csv->encoding == "windows-1252");
  Check(csv->records >= 0 && csv->records <= options.max_rows);
  Check(csv->rows.size() + csv->errors.size() <= static_cast<size_t>(csv->records));
  std::set<int> lines;
  std::set<std::string> emails;
  int previous = 0;
  for (const herald::apps::tickets::GuestRow& row : csv->rows) {
    Check(row.line >= 1 && row.line > previous);
    previous = row.line;
    lines.insert(row.line);
    Check(!row.first_name.empty() || !row.last_name.empty());
    Check(CleanText(row.first_name, 100) && CleanText(row.last_name, 100));
    Check(CleanText(row.ticket_type, 64));
    Check(!row.email.empty() || !row.phone.empty());
    Check(row.phone.empty() || herald::notify::IsE164(row.phone));
    Check(CleanText(row.email, 254));
    Check(row.email.empty() || emails.insert(row.email).second);
  }
  previous = 0;
  for (const herald::apps::tickets::RowError& error : csv->errors) {
    Check(error.line >= 1 && error.line > previous);
    previous = error.line;
    Check(!lines.contains(error.line));
    Check(!error.message.empty());
  }
  return 0;
}
