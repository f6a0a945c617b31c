// libFuzzer target for the MIME builder. ParseMailAddress never crashes, and an address it
// accepts builds into a message as sender and recipient. BuildMessage with the input as the
// subject, as the text and html bodies, or as an attachment's filename and bytes either fails
// with InvalidArgument or yields a message whose lines all end with CRLF (no bare CR or LF) and
// are at most 998 characters, whose header section holds only the fields the builder writes,
// and which refused CR or LF in every header-bound field (no header injection).

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "notify/mime.h"

namespace {

using herald::notify::BuildMessage;
using herald::notify::BuildOptions;
using herald::notify::BuiltMessage;
using herald::notify::MailMessage;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool HasCrOrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

MailMessage Base() {
  MailMessage m;
  m.from = {"sender@example.com", "Sender"};
  m.to = {{"rcpt@example.com", ""}};
  m.subject = "subject";
  m.text = "text";
  return m;
}

const BuildOptions& Options() {
  static const BuildOptions options = [] {
    BuildOptions o;
    o.date = absl::FromUnixSeconds(1767225600);
    o.boundary_seed = "fuzz";  // deterministic, so that runs reproduce
    return o;
  }();
  return options;
}

void CheckHeaderSection(std::string_view headers) {
  static constexpr std::array<std::string_view, 8> kFields = {
      "Date",       "From",         "To",           "Subject",
      "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};
  size_t start = 0;
  while (start < headers.size()) {
    const size_t end = headers.find("\r\n", start);
    Check(end != std::string_view::npos);
    const std::string_view line = headers.substr(start, end - start);
    Check(!line.empty());
    if (line.front() != ' ') {  // not a continuation: a field this builder writes
      const size_t colon = line.find(':');
      Check(colon != std::string_view::npos);
      Check(std::find(kFields.begin(), kFields.end(), line.substr(0, colon)) != kFields.end());
    } else {
      Check(line.find_first_not_of(' ') != std::string_view::npos);  // no whitespace-only line
    }
    start = end + 2;
  }
}

// `header_bound`: the input went into a header, so CR or LF in it must have been refused.
void CheckBuilt(const herald::Result<BuiltMessage>& built, std::string_view input,
                bool header_bound) {
  if (!built.ok()) {
    Check(built.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!built.status().message().empty());
    return;
  }
  if (header_bound) Check(!HasCrOrLf(input));
  const std::string& data = built->data;
  Check(data.size() >= 2 && data.compare(data.size() - 2, 2, "\r\n") == 0);
  size_t line_start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') Check(i + 1 < data.size() && data[i + 1] == '\n');
    if (data[i] == '\n') {
      Check(i > 0 && data[i - 1] == '\r');
      Check(i - 1 - line_start <= 998);
      line_start = i + 1;
    }
  }
  const size_t blank = data.find("\r\n\r\n");
  Check(blank != std::string::npos);
  CheckHeaderSection(std::string_view(data).substr(0, blank + 2));
  Check(built->message_id.rfind("fuzz@", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  herald::Result<herald::notify::MailAddress> address = herald::notify::ParseMailAddress(input);
  if (!address.ok()) {
    Check(address.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    Check(!HasCrOrLf(address->email) && !HasCrOrLf(address->name));
    Check(std::count(address->email.begin(), address->email.end(), '@') == 1);
    Check(address->email.size() <= herald::notify::kMaxAddressBytes);
    MailMessage m = Base();
    m.from = *address;
    m.to = {*address};
    const herald::Result<BuiltMessage> built = BuildMessage(m, Options());
    Check(built.ok());
    CheckBuilt(built, input, /*header_bound=*/true);
  }

  MailMessage subject = Base();
  subject.subject = std::string(input);
  CheckBuilt(BuildMessage(subject, Options()), input, /*header_bound=*/true);

  MailMessage name = Base();
  name.to[0].name = std::string(input);
  CheckBuilt(BuildMessage(name, Options()), input, /*header_bound=*/true);

  MailMessage body = Base();
  body.text = std::string(input);
  body.html = std::string(input);
  CheckBuilt(BuildMessage(body, Options()), input, /*header_bound=*/false);

  MailMessage attachment = Base();
  attachment.attachments.push_back({std::string(input), "", std::string(input), ""});
  CheckBuilt(BuildMessage(attachment, Options()), input, /*header_bound=*/true);
  return 0;
}
