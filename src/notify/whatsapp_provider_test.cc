#include "notify/whatsapp_provider.h"

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"
#include "gtest/gtest.h"
#include "net/testing/fake_http_server.h"

namespace herald::notify {
namespace {

namespace json = boost::json;
using Outcome = SendResult::Outcome;
using net::testing::FakeHttpServer;
using net::testing::FakeRequest;
using net::testing::FakeResponse;

constexpr char kToken[] = "EAAGm0PX4ZCpsBAKZCz7Xc2Qd0ZBGgZD";
constexpr char kPhoneNumberId[] = "106540352242922";
constexpr char kMessagesPath[] = "/v21.0/106540352242922/messages";
constexpr char kMediaPath[] = "/v21.0/106540352242922/media";

std::unique_ptr<WhatsAppProvider> MakeWhatsApp(const std::string& base_url,
                                               absl::Duration timeout = absl::Seconds(5)) {
  WhatsAppOptions o;
  o.base_url = base_url + "/";  // a trailing slash is tolerated
  o.phone_number_id = kPhoneNumberId;
  o.access_token = kToken;
  o.timeout = timeout;
  return std::move(WhatsAppProvider::Create(std::move(o))).value();
}

OutboundMessage Text(std::string to, std::string text) {
  OutboundMessage m;
  m.notification_id = "n-1";
  m.channel = Channel::kWhatsApp;
  m.recipient = std::move(to);
  m.text = std::move(text);
  return m;
}

FakeResponse Answer(int status, std::string body) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

json::value ParseJson(const std::string& s) {
  boost::system::error_code ec;
  json::value v = json::parse(s, ec);
  EXPECT_FALSE(ec) << s;
  return v;
}

// The answer to POST /messages (research notes §2.5; whatsapp-api-js
// ServerSentMessageResponse).
constexpr char kAccepted[] = R"({
  "messaging_product": "whatsapp",
  "contacts": [{"input": "+33612345678", "wa_id": "33612345678"}],
  "messages": [{"id": "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
                "message_status": "accepted"}]
})";
constexpr char kWamid[] = "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";

void ExpectMessageRequest(const FakeRequest& r) {
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, kMessagesPath);
  EXPECT_EQ(r.Header("authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("accept"), "application/json");
}

// =============================================================================================
// Text
// =============================================================================================

TEST(WhatsAppProvider, SendsTheExactTextRequestAndReturnsTheWamid) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kAccepted));
  auto whatsapp = MakeWhatsApp(server.url());
  EXPECT_EQ(whatsapp->name(), "whatsapp");
  EXPECT_EQ(whatsapp->channel(), Channel::kWhatsApp);

  const SendResult r = whatsapp->Send(Text("+33612345678", "Café à 10h \"demain\"\n✅"));
  EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
  EXPECT_EQ(r.provider_message_id, kWamid);

  ASSERT_EQ(server.request_count(), 1u);
  const FakeRequest req = server.requests()[0];
  ExpectMessageRequest(req);
  EXPECT_EQ(req.body,
            R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678",)"
            R"("type":"text","text":{"preview_url":false,"body":"Café à 10h \"demain\"\n✅"}})");
}

TEST(WhatsAppProvider, HeldForQualityAssessmentIsStillSent) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, R"({"messaging_product": "whatsapp",
    "contacts": [{"input": "+33612345678", "wa_id": "33612345678"}],
    "messages": [{"id": "wamid.HELD", "message_status": "held_for_quality_assessment"}]})"));
  const SendResult r = MakeWhatsApp(server.url())->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kSent);
  EXPECT_EQ(r.provider_message_id, "wamid.HELD");
}

TEST(WhatsAppProvider, AnAnswerWithoutAMessageIdIsRetryable) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, R"({"messaging_product": "whatsapp", "messages": []})"));
  server.Enqueue(Answer(200, "not json"));
  auto whatsapp = MakeWhatsApp(server.url());
  for (int i = 0; i < 2; ++i) {
    const SendResult r = whatsapp->Send(Text("+33612345678", "Hi"));
    EXPECT_EQ(r.outcome, Outcome::kRetryable);
    EXPECT_EQ(r.code, "invalid_response");
  }
}

TEST(WhatsAppProvider, RefusesEmptyOverlongOrInvalidTextWithoutARequest) {
  FakeHttpServer server;
  server.SetDefault(Answer(200, kAccepted));
  auto whatsapp = MakeWhatsApp(server.url());
  SendResult r = whatsapp->Send(Text("+33612345678", ""));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "empty_message");
  r = whatsapp->Send(Text("+33612345678", std::string(4097, 'a')));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "invalid_message");
  r = whatsapp->Send(Text("+33612345678", "bad \xff byte"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "invalid_message");
  EXPECT_EQ(server.request_count(), 0u);
  // 4096 characters is the limit, whatever their size in bytes.
  std::string longest;
  for (int i = 0; i < 4096; ++i) longest += "é";
  EXPECT_TRUE(whatsapp->Send(Text("+33612345678", longest)).sent());
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(WhatsAppProvider, InvalidNumberIsPermanentAndSendsNothing) {
  FakeHttpServer server;
  server.SetDefault(Answer(200, kAccepted));
  auto whatsapp = MakeWhatsApp(server.url());
  for (const char* to : {"", "0612345678", "33612345678", "+0612345678", "+1234567",
                         "+1234567890123456", "+33 6 12 34 56 78", "whatsapp:+33612345678"}) {
    const SendResult r = whatsapp->Send(Text(to, "Hi"));
    EXPECT_EQ(r.outcome, Outcome::kPermanent) << to;
    EXPECT_EQ(r.code, "invalid_number") << to;
  }
  EXPECT_EQ(server.request_count(), 0u);
}

// =============================================================================================
// Templates
// =============================================================================================

TEST(WhatsAppProvider, SendsATemplateWithBodyParameters) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kAccepted));
  OutboundMessage m = Text("+33612345678", "ignored: the template is sent instead");
  m.whatsapp_template = WhatsAppTemplate{"booking_confirmation", "fr", {"Jeanne", "mardi 14h"}};
  const SendResult r = MakeWhatsApp(server.url())->Send(m);
  EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;

  ASSERT_EQ(server.request_count(), 1u);
  const FakeRequest req = server.requests()[0];
  ExpectMessageRequest(req);
  EXPECT_EQ(ParseJson(req.body), ParseJson(R"({
    "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+33612345678",
    "type": "template",
    "template": {"name": "booking_confirmation", "language": {"code": "fr"},
                 "components": [{"type": "body", "parameters": [
                   {"type": "text", "text": "Jeanne"}, {"type": "text", "text": "mardi 14h"}]}]}
  })"));
}

TEST(WhatsAppProvider, ATemplateWithoutParametersHasNoComponents) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kAccepted));
  OutboundMessage m = Text("+15551234567", "");
  m.whatsapp_template = WhatsAppTemplate{"hello_world", "en_US", {}};
  ASSERT_TRUE(MakeWhatsApp(server.url())->Send(m).sent());
  EXPECT_EQ(server.requests()[0].body,
            R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"+15551234567",)"
            R"("type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}})");
}

TEST(WhatsAppProvider, ATemplateNeedsANameAndALanguage) {
  FakeHttpServer server;
  auto whatsapp = MakeWhatsApp(server.url());
  OutboundMessage m = Text("+33612345678", "");
  m.whatsapp_template = WhatsAppTemplate{"", "fr", {}};
  EXPECT_EQ(whatsapp->Send(m).code, "invalid_message");
  m.whatsapp_template = WhatsAppTemplate{"hello_world", "", {}};
  EXPECT_EQ(whatsapp->Send(m).code, "invalid_message");
  m.whatsapp_template = WhatsAppTemplate{"hello_world", "fr", {"bad \xc3"}};
  EXPECT_EQ(whatsapp->Send(m).code, "invalid_message");
  EXPECT_EQ(server.request_count(), 0u);
}

// =============================================================================================
// Media
// =============================================================================================

OutboundMessage WithMedia(Media media, std::string text = "") {
  OutboundMessage m = Text("+33612345678", std::move(text));
  m.media = std::move(media);
  return m;
}

TEST(WhatsAppProvider, SendsAnImageLinkWithTheTextAsCaption) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kAccepted));
  Media image;
  image.type = "image";
  image.link = "https://cdn.example.com/plan.png";
  ASSERT_TRUE(MakeWhatsApp(server.url())->Send(WithMedia(image, "Votre plan d'accès")).sent());
  ASSERT_EQ(server.request_count(), 1u);
  ExpectMessageRequest(server.requests()[0]);
  EXPECT_EQ(server.requests()[0].body,
            R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678",)"
            R"("type":"image","image":{"link":"https://cdn.example.com/plan.png",)"
            R"("caption":"Votre plan d'accès"}})");
}

TEST(WhatsAppProvider, SendsADocumentLinkWithItsCaptionAndFilename) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kAccepted));
  Media doc;
  doc.type = "document";
  doc.link = "https://cdn.example.com/f/123";
  doc.file.filename = "facture-2024.pdf";
  doc.caption = "Votre facture";
  ASSERT_TRUE(MakeWhatsApp(server.url())->Send(WithMedia(doc, "not the caption")).sent());
  EXPECT_EQ(ParseJson(server.requests()[0].body), ParseJson(R"({
    "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+33612345678",
    "type": "document",
    "document": {"link": "https://cdn.example.com/f/123", "caption": "Votre facture",
                 "filename": "facture-2024.pdf"}})"));
}

TEST(WhatsAppProvider, AnImageWithoutTextHasNoCaption) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kAccepted));
  Media image;
  image.type = "image";
  image.link = "http://cdn.example.com/a.jpg";
  image.file.filename = "a.jpg";  // no filename for images
  ASSERT_TRUE(MakeWhatsApp(server.url())->Send(WithMedia(image)).sent());
  EXPECT_EQ(ParseJson(server.requests()[0].body).at("image"),
            ParseJson(R"({"link": "http://cdn.example.com/a.jpg"})"));
}

// The boundary of a multipart/form-data Content-Type.
std::string BoundaryOf(const FakeRequest& r) {
  const std::string type = r.Header("content-type");
  const std::string prefix = "multipart/form-data; boundary=";
  EXPECT_TRUE(type.starts_with(prefix)) << type;
  return type.substr(prefix.size());
}

std::string ExpectedUpload(const std::string& boundary, const std::string& type,
                           const std::string& filename, const std::string& data) {
  return "--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n"
         "--" +
         boundary + "\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n" + type + "\r\n--" +
         boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
         "\"\r\nContent-Type: " + type + "\r\n\r\n" + data + "\r\n--" + boundary + "--\r\n";
}

TEST(WhatsAppProvider, UploadsADocumentThenSendsItsId) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, R"({"id": "1037543291543636"})"));
  server.Enqueue(Answer(200, kAccepted));
  // Binary bytes, NULs and CRLFs included.
  static constexpr char kPdf[] = "%PDF-1.7\n\0\x01\xff\xfe\r\n--\r\n%%EOF";
  const std::string data(kPdf, sizeof(kPdf) - 1);
  Media doc;
  doc.type = "document";
  doc.file.filename = "facture-2024.pdf";
  doc.file.data = data;  // content type guessed from the extension
  const SendResult r = MakeWhatsApp(server.url())->Send(WithMedia(doc, "Votre facture"));
  EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
  EXPECT_EQ(r.provider_message_id, kWamid);

  ASSERT_EQ(server.request_count(), 2u);
  const FakeRequest upload = server.requests()[0];
  EXPECT_EQ(upload.method, "POST");
  EXPECT_EQ(upload.target, kMediaPath);
  EXPECT_EQ(upload.Header("authorization"), std::string("Bearer ") + kToken);
  const std::string boundary = BoundaryOf(upload);
  EXPECT_FALSE(boundary.empty());
  EXPECT_LE(boundary.size(), 70u);
  EXPECT_EQ(data.find(boundary), std::string::npos);
  EXPECT_EQ(upload.body, ExpectedUpload(boundary, "application/pdf", "facture-2024.pdf", data));

  const FakeRequest send = server.requests()[1];
  ExpectMessageRequest(send);
  EXPECT_EQ(send.body,
            R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678",)"
            R"("type":"document","document":{"id":"1037543291543636","caption":"Votre facture",)"
            R"("filename":"facture-2024.pdf"}})");
}

TEST(WhatsAppProvider, UploadsAPngImageWithItsOwnContentTypeAndEscapedFilename) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, R"({"id": "55"})"));
  server.Enqueue(Answer(200, kAccepted));
  static constexpr char kPng[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
  const std::string data(kPng, sizeof(kPng) - 1);
  Media image;
  image.type = "image";
  image.file.filename = "plan \"accès\"\r\n.png";
  image.file.content_type = "Image/PNG; name=x";
  image.file.data = data;
  image.caption = "Plan";
  ASSERT_TRUE(MakeWhatsApp(server.url())->Send(WithMedia(image)).sent());
  ASSERT_EQ(server.request_count(), 2u);
  const FakeRequest upload = server.requests()[0];
  EXPECT_EQ(upload.body,
            ExpectedUpload(BoundaryOf(upload), "image/png", "plan %22accès%22%0D%0A.png", data));
  EXPECT_EQ(ParseJson(server.requests()[1].body).at("image"),
            ParseJson(R"({"id": "55", "caption": "Plan"})"));
}

TEST(WhatsAppProvider, TheBoundaryNeverOccursInTheFile) {
  // A file made of what a boundary could start with.
  std::string data;
  for (int i = 0; i < 2000; ++i) data += "--herald-" + std::to_string(i) + "\r\n";
  FakeHttpServer server;
  server.Enqueue(Answer(200, R"({"id": "77"})"));
  server.Enqueue(Answer(200, kAccepted));
  Media doc;
  doc.type = "document";
  doc.file.filename = "boundaries.txt";
  doc.file.data = data;
  ASSERT_TRUE(MakeWhatsApp(server.url())->Send(WithMedia(doc)).sent());
  const FakeRequest upload = server.requests()[0];
  const std::string boundary = BoundaryOf(upload);
  EXPECT_EQ(data.find(boundary), std::string::npos);
  EXPECT_EQ(upload.body, ExpectedUpload(boundary, "text/plain", "boundaries.txt", data));
}

TEST(WhatsAppProvider, AFailedUploadIsReportedAndNothingElseIsSent) {
  FakeHttpServer server;
  server.Enqueue(Answer(400, R"({"error": {"message": "(#131053) Media upload error",
    "type": "OAuthException", "code": 131053,
    "error_data": {"messaging_product": "whatsapp",
                   "details": "Unsupported file type application/pdf for image."},
    "fbtrace_id": "AbQ8dCq9m5n3"}})"));
  server.Enqueue(Answer(503, ""));
  Media doc;
  doc.type = "document";
  doc.file.filename = "a.pdf";
  doc.file.data = "%PDF";
  auto whatsapp = MakeWhatsApp(server.url());
  SendResult r = whatsapp->Send(WithMedia(doc));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "131053");
  EXPECT_EQ(r.message, "media upload: Unsupported file type application/pdf for image.");
  r = whatsapp->Send(WithMedia(doc));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "503");
  EXPECT_EQ(server.request_count(), 2u);  // two uploads, no message
  for (const FakeRequest& req : server.requests()) EXPECT_EQ(req.target, kMediaPath);
}

TEST(WhatsAppProvider, RefusesMediaWhatsAppWouldRefuseWithoutARequest) {
  FakeHttpServer server;
  auto whatsapp = MakeWhatsApp(server.url());
  auto code = [&](Media media, std::string text = "") {
    const SendResult r = whatsapp->Send(WithMedia(std::move(media), std::move(text)));
    EXPECT_EQ(r.outcome, Outcome::kPermanent) << r.message;
    return r.code;
  };
  Media video;
  video.type = "video";
  video.link = "https://cdn.example.com/v.mp4";
  EXPECT_EQ(code(video), "invalid_message");

  Media gif;
  gif.type = "image";
  gif.file.filename = "a.gif";
  gif.file.data = "GIF89a";
  EXPECT_EQ(code(gif), "invalid_message");

  Media big_image;
  big_image.type = "image";
  big_image.file.filename = "a.jpg";
  big_image.file.data = std::string(kMaxWhatsAppImageBytes + 1, 'x');
  EXPECT_EQ(code(big_image), "invalid_message");

  Media big_doc;
  big_doc.type = "document";
  big_doc.file.filename = "a.pdf";
  big_doc.file.data = std::string(kMaxWhatsAppDocumentBytes + 1, 'x');
  EXPECT_EQ(code(big_doc), "invalid_message");

  Media both;
  both.type = "document";
  both.link = "https://cdn.example.com/a.pdf";
  both.file.filename = "a.pdf";
  both.file.data = "%PDF";
  EXPECT_EQ(code(both), "invalid_message");

  Media neither;
  neither.type = "document";
  EXPECT_EQ(code(neither), "invalid_message");

  Media ftp;
  ftp.type = "document";
  ftp.link = "ftp://example.com/a.pdf";
  EXPECT_EQ(code(ftp), "invalid_message");

  Media bad_type;
  bad_type.type = "document";
  bad_type.file.filename = "a.pdf";
  bad_type.file.content_type = "application/pdf\r\nX-Injected: 1";
  bad_type.file.data = "%PDF";
  EXPECT_EQ(code(bad_type), "invalid_message");

  Media long_caption;
  long_caption.type = "image";
  long_caption.link = "https://cdn.example.com/a.jpg";
  EXPECT_EQ(code(long_caption, std::string(1025, 'c')), "invalid_message");

  EXPECT_EQ(server.request_count(), 0u);
}

// =============================================================================================
// Errors (bodies as the Graph API sends them: research notes §2.5, pywa errors.py)
// =============================================================================================

TEST(WhatsAppProvider, OutsideThe24HourWindow131047IsPermanentWithAClearReason) {
  FakeHttpServer server;
  server.Enqueue(Answer(400, R"({"error": {"message": "(#131047) Re-engagement message",
    "type": "OAuthException", "code": 131047, "error_subcode": 2494010,
    "error_data": {"messaging_product": "whatsapp",
      "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
    "fbtrace_id": "AHxg2yR0Vm9kZbTq"}})"));
  const SendResult r = MakeWhatsApp(server.url())->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "131047");
  EXPECT_EQ(r.message,
            "outside the 24-hour customer-service window: the recipient has not written in the "
            "last 24 hours; send an approved template message instead. Meta: Message failed to "
            "send because more than 24 hours have passed since the customer last replied to this "
            "number.");
}

TEST(WhatsAppProvider, ThroughputLimit130429IsRetryable) {
  FakeHttpServer server;
  server.Enqueue(Answer(400, R"({"error": {"message": "(#130429) Rate limit hit",
    "type": "OAuthException", "code": 130429,
    "error_data": {"messaging_product": "whatsapp",
                   "details": "Cloud API message throughput has been reached."},
    "fbtrace_id": "A7yG5o1yQ0x1"}})"));
  const SendResult r = MakeWhatsApp(server.url())->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "130429");
  EXPECT_EQ(r.message, "Cloud API message throughput has been reached.");
}

TEST(WhatsAppProvider, ExpiredToken190IsRetryableAndNeverShowsTheToken) {
  FakeHttpServer server;
  server.Enqueue(Answer(
      401,
      R"({"error": {"message": "Error validating access token: Session has expired on Friday, 21-Jun-24 05:00:00 PDT. The current time is Friday, 21-Jun-24 06:36:36 PDT.",
    "type": "OAuthException", "code": 190, "error_subcode": 463,
    "fbtrace_id": "A2mxOPuWUwUD9kUnhB0Xf8Q"}})"));
  // Should Meta ever echo the token, it is redacted.
  server.Enqueue(
      Answer(400, std::string(R"({"error": {"message": "Invalid OAuth access token - )") + kToken +
                      R"(", "type": "OAuthException", "code": 190}})"));
  auto whatsapp = MakeWhatsApp(server.url());
  SendResult r = whatsapp->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "190");
  EXPECT_EQ(r.message,
            "Error validating access token: Session has expired on Friday, 21-Jun-24 05:00:00 "
            "PDT. The current time is Friday, 21-Jun-24 06:36:36 PDT.");
  r = whatsapp->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.message, "Invalid OAuth access token - [redacted]");
  EXPECT_EQ(r.message.find(kToken), std::string::npos);
}

TEST(WhatsAppProvider, Undeliverable131026IsPermanent) {
  FakeHttpServer server;
  server.Enqueue(Answer(400, R"({"error": {"message": "(#131026) Message undeliverable",
    "type": "OAuthException", "code": 131026,
    "error_data": {"messaging_product": "whatsapp", "details": "Message Undeliverable."},
    "fbtrace_id": "AbC1d2E3f4"}})"));
  const SendResult r = MakeWhatsApp(server.url())->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "131026");
  EXPECT_EQ(r.message, "Message Undeliverable.");
}

TEST(WhatsAppProvider, ServerErrorsAndUnreadableBodiesAreRetryable) {
  FakeHttpServer server;
  server.Enqueue(Answer(500, R"({"error": {"message": "An unknown error has occurred.",
    "type": "OAuthException", "code": 1, "error_subcode": 99, "is_transient": true,
    "fbtrace_id": "AbCdEfGh"}})"));
  server.Enqueue(Answer(500, "<html>Internal Server Error</html>"));
  server.Enqueue(Answer(502, ""));
  server.Enqueue(Answer(429, ""));
  server.Enqueue(Answer(400, R"({"error": "not an object"})"));
  auto whatsapp = MakeWhatsApp(server.url());
  SendResult r = whatsapp->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "1");
  EXPECT_EQ(r.message, "An unknown error has occurred.");
  r = whatsapp->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "500");
  EXPECT_EQ(r.message, "HTTP 500: <html>Internal Server Error</html>");
  for (const char* code : {"502", "429", "400"}) {
    r = whatsapp->Send(Text("+33612345678", "Hi"));
    EXPECT_EQ(r.outcome, Outcome::kRetryable) << code;
    EXPECT_EQ(r.code, code);
    EXPECT_FALSE(r.message.empty());
  }
}

TEST(WhatsAppProvider, ErrorCodeTable) {
  for (int code : {131047, 131026, 131051, 131030, 131008, 131009, 100, 132000, 132001, 132005,
                   132007, 132012, 132015, 132016, 131052, 131053}) {
    EXPECT_EQ(WhatsAppErrorOutcome(code), Outcome::kPermanent) << code;
  }
  const std::vector<int> retryable = {
      0,     3,      10,     190,    200,    250, 299,  // authentication and permissions
      4,     80007,  130429, 131048, 131056,            // rate limits
      1,     131000, 131016, 131057,                    // Meta's side
      368,   131031, 131042, 131005, 131045,            // the account
      99999, -1,                                        // unknown
  };
  for (int code : retryable) {
    EXPECT_EQ(WhatsAppErrorOutcome(code), Outcome::kRetryable) << code;
  }
}

// =============================================================================================
// Transport, options, concurrency
// =============================================================================================

TEST(WhatsAppProvider, TimeoutIsRetryable) {
  FakeHttpServer server;
  FakeResponse slow = Answer(200, kAccepted);
  slow.delay = std::chrono::milliseconds(3000);
  server.Enqueue(slow);
  auto whatsapp = MakeWhatsApp(server.url(), absl::Milliseconds(200));
  const absl::Time start = absl::Now();
  const SendResult r = whatsapp->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "timeout");
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(WhatsAppProvider, ConnectionFailuresAreRetryable) {
  std::string url;
  {
    FakeHttpServer closed;
    url = closed.url();
  }
  SendResult r = MakeWhatsApp(url)->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "connection");
  EXPECT_EQ(r.message.find(kToken), std::string::npos);

  FakeHttpServer server;
  FakeResponse drop;
  drop.close_without_response = true;
  server.Enqueue(drop);
  r = MakeWhatsApp(server.url())->Send(Text("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "connection");
}

TEST(WhatsAppProvider, CreateValidatesOptions) {
  WhatsAppOptions o;
  o.phone_number_id = kPhoneNumberId;
  o.access_token = "t";
  EXPECT_TRUE(WhatsAppProvider::Create(o).ok());
  o.api_version = "v3.12";
  EXPECT_TRUE(WhatsAppProvider::Create(o).ok());
  for (const char* bad : {"", "21.0", "v21", "v21.", "v.0", "vX.0", "v21.0/..", "V21.0"}) {
    o.api_version = bad;
    EXPECT_EQ(WhatsAppProvider::Create(o).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  o.api_version = "v21.0";
  o.phone_number_id = "";
  EXPECT_FALSE(WhatsAppProvider::Create(o).ok());
  o.phone_number_id = "1065/../x";
  EXPECT_FALSE(WhatsAppProvider::Create(o).ok());
  o.phone_number_id = kPhoneNumberId;
  o.access_token = "";
  EXPECT_FALSE(WhatsAppProvider::Create(o).ok());
  o.access_token = "abc\r\nX-Injected: 1";
  EXPECT_FALSE(WhatsAppProvider::Create(o).ok());
  o.access_token = "t";
  o.base_url = "graph.facebook.com";
  EXPECT_FALSE(WhatsAppProvider::Create(o).ok());
  o.base_url = "https://graph.facebook.com";
  o.timeout = absl::ZeroDuration();
  EXPECT_FALSE(WhatsAppProvider::Create(o).ok());
}

TEST(WhatsAppProvider, EightThreadsSendThroughOneProvider) {
  FakeHttpServer server;
  server.SetDefault(Answer(200, kAccepted));
  auto whatsapp = MakeWhatsApp(server.url(), absl::Seconds(10));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::vector<std::vector<SendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        results[t].push_back(whatsapp->Send(
            Text("+33612345678", "msg " + std::to_string(t) + "-" + std::to_string(i))));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const auto& per_thread : results) {
    ASSERT_EQ(per_thread.size(), static_cast<size_t>(kPerThread));
    for (const SendResult& r : per_thread) {
      EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
    }
  }
  std::set<std::string> bodies;
  for (const FakeRequest& req : server.requests()) bodies.insert(req.body);
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_LE(server.connections(), kThreads);
}

}  // namespace
}  // namespace herald::notify
