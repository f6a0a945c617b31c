// SmtpProvider against a real SMTP server on loopback (aiosmtpd, started by the fixture):
// the received message is parsed back by Python's email package and checked; 4xx and 5xx
// replies, a dropped connection and an unreachable server are classified; connections are
// reused.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "boost/json/parse.hpp"
#include "core/clock.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "notify/smtp_provider.h"
#include "process.h"

namespace herald {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using notify::OutboundMessage;
using notify::SendResult;

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-aiosmtpd

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class SmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = dir_.File("mail");
    fs::create_directories(out_);
    port_ = FreePort();
    server_ = std::make_unique<testing::Child>(
        kPython,
        std::vector<std::string>{std::string(SOURCE_DIR) + "/tests/integration/smtp_server.py",
                                 std::to_string(port_), out_},
        std::vector<std::string>{}, dir_.File("smtp.log"));
    ASSERT_TRUE(server_->started());
    for (int i = 0; i < 200 && !fs::exists(fs::path(out_) / "ready"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));  // process start-up only
    }
    ASSERT_TRUE(fs::exists(fs::path(out_) / "ready")) << ReadFile(dir_.File("smtp.log"));
  }

  std::unique_ptr<notify::SmtpProvider> Provider(int pool = 2, int port = 0) {
    notify::SmtpOptions o;
    o.url = StrCat("smtp://127.0.0.1:", port == 0 ? port_ : port);
    o.tls = notify::SmtpOptions::Tls::kOff;  // loopback test server without TLS
    o.pool = pool;
    o.rate = 0;
    o.timeout = absl::Seconds(10);
    o.message_id_domain = "test.herald";
    return std::move(notify::SmtpProvider::Create(o, core::Clock::Real())).value();
  }

  static OutboundMessage Message(std::string to) {
    OutboundMessage m;
    m.notification_id = "n-1";
    m.recipient = to;
    m.mail.from = {"billetterie@example.fr", "Billetterie Événements"};
    m.mail.to = {{to, "Jean Dupont"}};
    m.mail.reply_to = notify::MailAddress{"support@example.fr", "Support"};
    m.mail.subject = "Vos billets pour « Fête de la Musique » — 15 € ✓";
    m.mail.text =
        "Bonjour Jean,\r\nVos billets sont prêts.\r\n.\r\nUne ligne qui commence par un point.";
    m.mail.html = "<p>Bonjour Jean,</p><p>Vos billets sont <strong>prêts</strong>.</p>";
    m.mail.list_unsubscribe_url = "https://example.fr/unsubscribe?u=1";
    return m;
  }

  // Waits for the n-th message file (the server writes it before answering 250).
  std::string Received(int n) {
    const fs::path p =
        fs::path(out_) / StrCat(std::string(6 - std::to_string(n).size(), '0'), n, ".eml");
    return fs::exists(p) ? ReadFile(p) : "";
  }

  // Python's reading of a received message.
  json::value Parse(const std::string& eml_path) {
    const std::string script = R"PY(
import email, json, sys, base64
from email import policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
out = {'subject': m['subject'], 'from': str(m['from']), 'to': str(m['to']),
       'reply_to': str(m['reply-to']), 'message_id': m['message-id'],
       'list_unsubscribe': m['list-unsubscribe'], 'list_unsubscribe_post': m['list-unsubscribe-post'],
       'text': m.get_body(('plain',)).get_content().replace('\r\n', '\n'),
       'html': m.get_body(('html',)).get_content().replace('\r\n', '\n'),
       'attachments': []}
for part in m.iter_attachments():
    out['attachments'].append({'filename': part.get_filename(), 'type': part.get_content_type(),
                               'data': base64.b64encode(part.get_payload(decode=True)).decode()})
print(json.dumps(out))
)PY";
    const std::string script_path = dir_.File("parse.py");
    std::ofstream(script_path) << script;
    FILE* p = popen(StrCat(kPython, " ", script_path, " ", eml_path, " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    boost::system::error_code ec;
    json::value v = json::parse(out, ec);
    EXPECT_FALSE(ec) << out;
    return v;
  }

  testing::TempDir dir_;
  std::string out_;
  int port_ = 0;
  std::unique_ptr<testing::Child> server_;
};

TEST_F(SmtpTest, DeliversAMessageThatParsesBackIdentically) {
  auto smtp = Provider();
  OutboundMessage m = Message("jean@example.com");
  std::string pdf = "%PDF-1.7\n";
  for (int i = 0; i < 3000; ++i) pdf.push_back(static_cast<char>((i * 37) & 0xff));
  m.mail.attachments.push_back({"facture-été.pdf", "application/pdf", pdf, ""});
  SendResult r = smtp->Send(m);
  ASSERT_TRUE(r.sent()) << r.code << " " << r.message;
  EXPECT_TRUE(r.provider_message_id.ends_with("@test.herald")) << r.provider_message_id;

  ASSERT_FALSE(Received(1).empty());
  json::value v = Parse((fs::path(out_) / "000001.eml").string());
  EXPECT_EQ(v.at("subject").as_string(), m.mail.subject);
  EXPECT_EQ(v.at("from").as_string(), "Billetterie Événements <billetterie@example.fr>");
  EXPECT_EQ(v.at("to").as_string(), "Jean Dupont <jean@example.com>");
  EXPECT_EQ(v.at("reply_to").as_string(), "Support <support@example.fr>");
  EXPECT_EQ(v.at("message_id").as_string(), StrCat("<", r.provider_message_id, ">"));
  EXPECT_EQ(v.at("list_unsubscribe").as_string(), "<https://example.fr/unsubscribe?u=1>");
  EXPECT_EQ(v.at("list_unsubscribe_post").as_string(), "List-Unsubscribe=One-Click");
  // The SMTP dot-stuffing round trip keeps the line that is a single dot.
  EXPECT_EQ(std::string(v.at("text").as_string()),
            "Bonjour Jean,\nVos billets sont prêts.\n.\nUne ligne qui commence par un point.");
  EXPECT_EQ(std::string(v.at("html").as_string()), m.mail.html);
  ASSERT_EQ(v.at("attachments").as_array().size(), 1u);
  const json::value& a = v.at("attachments").at(0);
  EXPECT_EQ(a.at("filename").as_string(), "facture-été.pdf");
  EXPECT_EQ(a.at("type").as_string(), "application/pdf");
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(std::string(a.at("data").as_string()), &bytes));
  EXPECT_EQ(bytes, pdf);
}

TEST_F(SmtpTest, ReusesPooledConnections) {
  auto smtp = Provider(/*pool=*/2);
  std::vector<std::thread> senders;
  std::atomic<int> sent{0};
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        sent += smtp->Send(Message(StrCat("user", t, "-", i, "@example.com"))).sent();
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(sent.load(), 40);
  EXPECT_LE(smtp->connections_opened(), 2);
  const std::string connections = ReadFile(fs::path(out_) / "connections");
  EXPECT_LE(std::count(connections.begin(), connections.end(), '\n'), 2) << connections;
  EXPECT_FALSE(Received(40).empty());
}

TEST_F(SmtpTest, ClassifiesRepliesAndFailures) {
  auto smtp = Provider();
  SendResult temp = smtp->Send(Message("temp@example.com"));
  EXPECT_EQ(temp.outcome, SendResult::Outcome::kRetryable);
  EXPECT_EQ(temp.code, "451");
  SendResult reject = smtp->Send(Message("reject@example.com"));
  EXPECT_EQ(reject.outcome, SendResult::Outcome::kPermanent);
  EXPECT_EQ(reject.code, "550");
  SendResult dropped = smtp->Send(Message("drop@example.com"));
  EXPECT_EQ(dropped.outcome, SendResult::Outcome::kRetryable) << dropped.code << dropped.message;
  // The pool recovers: the next message goes through on a fresh connection.
  EXPECT_TRUE(smtp->Send(Message("ok@example.com")).sent());

  auto unreachable = Provider(1, FreePort());
  SendResult down = unreachable->Send(Message("jean@example.com"));
  EXPECT_EQ(down.outcome, SendResult::Outcome::kRetryable);
  EXPECT_EQ(down.code, "curl_7");  // CURLE_COULDNT_CONNECT
}

TEST_F(SmtpTest, RequiredStartTlsIsNotSilentlyDowngraded) {
  notify::SmtpOptions o;
  o.url = StrCat("smtp://127.0.0.1:", port_);
  o.tls = notify::SmtpOptions::Tls::kRequired;  // the test server offers no STARTTLS
  auto smtp = std::move(notify::SmtpProvider::Create(o, core::Clock::Real())).value();
  SendResult r = smtp->Send(Message("jean@example.com"));
  EXPECT_EQ(r.outcome, SendResult::Outcome::kRetryable);
  EXPECT_TRUE(Received(1).empty());
}

}  // namespace
}  // namespace herald
