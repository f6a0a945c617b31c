// The ticketing routes over real sockets: seed bodies posted verbatim, the door under
// concurrent gates, and the error shapes.

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_split.h"
#include "apps/tickets/ticket_code.h"
#include "auth/crypto.h"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "docs/testing/pdf_checks.h"
#include "gtest/gtest.h"
#include "http/json_fields.h"
#include "http/server.h"
#include "http/testing/client.h"
#include "http/testing/engine_stack.h"
#include "http/ticket_routes.h"
#include "http/webhook_routes.h"
#include "notify/log_provider.h"

namespace herald::http {
namespace {

using testing::Client;
using testing::ClientResponse;
namespace tk = apps::tickets;
namespace json = boost::json;

// "Bearer perm1,perm2" grants those permissions; "Bearer operator:<user id>" is a user with
// the operator role and its default permissions.
class TicketHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<testing::EngineStack>();
    AddTicketRoutes(router_, *stack_->ticketing, *stack_->scanner);
    AddPurchaseRoutes(router_, *stack_->purchases);
    AddGenerationRoutes(router_, *stack_->generator, *stack_->ticketing);
    WebhookRouteOptions wo;
    wo.clock = &stack_->clock;
    AddWebhookRoutes(router_, *stack_->dispatcher, *stack_->inbox, wo);
    ServerOptions options;
    options.port = 0;
    options.threads = 4;
    options.access_log = false;
    auto authenticate = [](Request& req, const Route&) -> Status {
      std::string_view auth = req.Header("authorization");
      if (auth.empty()) return absl::OkStatus();
      std::string_view token = auth.substr(7);
      auth::Principal p;
      if (token.starts_with("operator:")) {
        p.role = auth::Role::kOperator;
        p.id = std::string(token.substr(9));
        p.name = StrCat("door-", p.id);
        p.permissions = auth::PermissionSet::ForRole(auth::Role::kOperator);
      } else {
        std::vector<std::string> allow;
        for (auto x : absl::StrSplit(ToAbsl(token), ',')) allow.emplace_back(x);
        p.role = auth::Role::kAdmin;
        p.name = "tester";
        p.permissions = auth::PermissionSet(std::move(allow), {});
      }
      req.principal = std::make_shared<const auth::Principal>(std::move(p));
      return absl::OkStatus();
    };
    server_ =
        std::move(Server::Create(options, router_, authenticate, core::Clock::Real())).value();
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Stop(absl::Seconds(1));
    server_.reset();
    stack_.reset();
  }

  ClientResponse Send(const std::string& method, const std::string& target,
                      const std::string& body = "", const std::string& token = "*") {
    Client c(server_->port());
    return c.Send(method, target, body, {{"Authorization", "Bearer " + token}});
  }

  json::value Data(const ClientResponse& r) {
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
    json::value v = r.Json();
    if (!v.is_object() || !v.as_object().contains("data")) return nullptr;
    return v.at("data");
  }

  // Event `id` starting in 2 hours (doors open), one guest, and `n` issued tickets for them.
  std::vector<json::value> EventWithTickets(int64_t id, int n, std::string mode = "signed") {
    std::string start = Rfc3339(stack_->clock.Now() + absl::Hours(2));
    EXPECT_EQ(Send("POST", "/api/events",
                   StrCat(R"({"id":)", id, R"(,"title":"Tech Conference 2025","event_date":")",
                          start, R"(","location":"Paris Expo","max_attendees":5000,)",
                          R"("status":"active","code_mode":")", mode, R"("})"))
                  .status,
              201);
    json::value guest = Data(Send("POST", StrCat("/api/events/", id, "/guests"),
                                  R"({"first_name":"Jean","last_name":"Dupont",)"
                                  R"("email":"jean.dupont@example.com","phone":"+33612345678"})"));
    if (n == 0) return {};
    json::array tickets;
    for (int i = 0; i < n; ++i) {
      tickets.push_back(json::object{{"guest_id", guest.at("id")}, {"seat", StrCat("A", i)}});
    }
    json::value issued = Data(Send("POST", StrCat("/api/events/", id, "/tickets"),
                                   json::serialize(json::object{{"tickets", tickets}})));
    std::vector<json::value> out;
    for (const json::value& t : issued.as_array()) out.push_back(t);
    return out;
  }

  // The answer to POST /api/scans/validate of `code` at event `event`; `fields` adds members
  // to the body (R"(,"scanner_id":"s1")").
  json::value Scan(const std::string& code, int64_t event, const std::string& fields = "") {
    return Send("POST", "/api/scans/validate",
                StrCat(R"({"ticket_code":")", code, R"(","event_id":)", event, fields, "}"))
        .Json();
  }

  static std::string Str(const json::value& v, std::string_view key) {
    return std::string(v.at(key).as_string());
  }

  std::unique_ptr<testing::EngineStack> stack_;
  docs::testing::PdfChecks pdf_;
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(TicketHttpTest, Seed002ScanBodyVerbatim) {
  // Event 1 with a ticket brought from another system under the seed's number.
  EventWithTickets(1, 1);
  ClientResponse issued =
      Send("POST", "/api/events/1/tickets", R"({"ticket_code":"TKT-001-ABC123"})");
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string body = R"({
  "ticket_code": "TKT-001-ABC123",
  "event_id": 1,
  "scanner_id": "scanner-uuid-12345",
  "validation_result": "valid",
  "scan_location": {
    "gate": "A",
    "section": "VIP",
    "coordinates": {
      "lat": 48.8566,
      "lng": 2.3522
    }
  },
  "scan_metadata": {
    "device_type": "mobile_scanner",
    "os_version": "iOS 15.0",
    "app_version": "2.1.0",
    "battery_level": 85,
    "network_type": "wifi"
  },
  "timestamp": "2025-06-15T10:30:00Z",
  "operator_id": "operator-123"
})";
  ClientResponse r = Send("POST", "/api/scans/validate", body);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = r.Json();
  EXPECT_TRUE(v.at("valid").as_bool()) << r.body;
  EXPECT_EQ(Str(v, "reason"), "ok");
  EXPECT_EQ(Str(v, "ticketCode"), "TKT-001-ABC123");
  EXPECT_EQ(v.at("scanCount").as_int64(), 1);
  // Another scanner: already used, with the first scan's gate and operator.
  std::string other = body;
  other.replace(other.find("scanner-uuid-12345"), 18, "scanner-uuid-99999");
  v = Send("POST", "/api/scans/validate", other, "operator:u1").Json();
  EXPECT_EQ(Str(v, "reason"), "operator_not_allowed");  // u1 is not door staff of event 1
  v = Send("POST", "/api/scans/validate", other).Json();
  EXPECT_FALSE(v.at("valid").as_bool());
  EXPECT_EQ(Str(v, "reason"), "already_used");
  EXPECT_EQ(Str(v.at("firstScan"), "gate"), "A");
  EXPECT_EQ(Str(v.at("firstScan"), "operatorId"), "operator-123");
  EXPECT_EQ(Str(v.at("firstScan"), "scannerId"), "scanner-uuid-12345");
  // The log keeps the device details and what the client claimed.
  json::value log = Data(Send("GET", "/api/scans?event_id=1"));
  ASSERT_GE(log.as_array().size(), 2u);
  const json::value& first = log.as_array().back();
  EXPECT_EQ(first.at("metadata").at("device").at("battery_level").as_int64(), 85);
  EXPECT_EQ(Str(first.at("metadata"), "client_result"), "valid");
  EXPECT_EQ(Str(first, "device_time"), "2025-06-15T10:30:00.000Z");
}

TEST_F(TicketHttpTest, Seed003ScanBodiesVerbatim) {
  std::vector<json::value> t = EventWithTickets(456, 2);
  // As printed in the seed (its QR data is a placeholder): answered, refused.
  ClientResponse r = Send("POST", "/api/scans/validate",
                          R"({"qrCodeData": "encrypted_qr_data", "eventId": 456,)"
                          R"( "operatorId": 123, "location": "Entrée principale"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "reason"), "invalid_code");
  // The same body with a real code, answered in French.
  std::string body =
      StrCat(R"({"qrCodeData": ")", Str(t[0], "qr_code_data"),
             R"(", "eventId": 456, "operatorId": 123, "location": "Entrée principale"})");
  Client c(server_->port());
  r = c.Send("POST", "/api/scans/validate", body,
             {{"Authorization", "Bearer *"}, {"Accept-Language", "fr-FR,fr;q=0.9"}});
  json::value v = r.Json();
  EXPECT_TRUE(v.at("valid").as_bool()) << r.body;
  EXPECT_EQ(v.at("ticketId").as_int64(), t[0].at("id").as_int64());
  EXPECT_EQ(v.at("guestId").as_int64(), t[0].at("guest_id").as_int64());
  EXPECT_EQ(v.at("scanCount").as_int64(), 1);
  EXPECT_FALSE(v.at("lastScanAt").is_null());
  EXPECT_EQ(Str(v, "message"), "Billet valide : entrée autorisée");
  EXPECT_EQ(Str(v.at("messages"), "en"), "Valid ticket: entry allowed");

  // validate-ticket checks without recording; scan-confirmation records, once per scanId.
  const int64_t id = t[1].at("id").as_int64();
  std::string check =
      StrCat(R"({"qrCodeData": ")", Str(t[1], "qr_code_data"),
             R"(", "eventId": 456, "operatorId": 123, "location": "Entrée principale"})");
  v = Send("POST", "/api/internal/validation/validate-ticket", check).Json();
  EXPECT_TRUE(v.at("valid").as_bool());
  EXPECT_TRUE(v.at("scanId").is_null());
  std::string confirm =
      StrCat(R"({"ticketId": )", id,
             R"(, "scanId": "scan-123", "status": "validated", "operatorId": 123,)"
             R"( "location": "Entrée principale", "scannedAt": "2026-01-30T03:00:00Z"})");
  v = Send("POST", "/api/internal/scan-confirmation", confirm).Json();
  EXPECT_EQ(Str(v, "status"), "validated");
  const int64_t scan_id = v.at("scanId").as_int64();
  v = Send("POST", "/api/internal/scan-confirmation", confirm).Json();
  EXPECT_EQ(Str(v, "status"), "validated");  // the same confirmation again: same answer
  EXPECT_TRUE(v.at("repeat").as_bool());
  EXPECT_EQ(v.at("scanId").as_int64(), scan_id);
  v = Send("POST", "/api/internal/validation/validate-ticket", check).Json();
  EXPECT_EQ(Str(v, "reason"), "already_used");
  // The seed's own confirmation (ticket 789 does not exist): answered, refused.
  r = Send("POST", "/api/internal/scan-confirmation",
           R"({"ticketId": 789, "scanId": "scan-123b", "status": "validated", "operatorId": 123,)"
           R"( "location": "Entrée principale", "scannedAt": "2026-01-30T03:00:00Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "status"), "refused");
  EXPECT_EQ(Str(r.Json(), "reason"), "invalid_code");
}

TEST_F(TicketHttpTest, Seed002InternalScanValidationVerbatim) {
  EventWithTickets(1, 1);  // ticket 1 of event 1, as the seed's body names
  const std::string body = R"({
  "ticketId": 1,
  "eventId": 1,
  "ticketType": "standard",
  "userId": 123,
  "scanContext": {
    "operatorId": "operator-123",
    "location": {
      "gate": "A",
      "section": "VIP",
      "coordinates": {
        "lat": 48.8566,
        "lng": 2.3522
      }
    },
    "deviceId": "scanner-uuid-12345",
    "checkpointId": "checkpoint-A"
  },
  "validationMetadata": {
    "qr_decoded": true,
    "signature_valid": true,
    "timestamp_valid": true,
    "scan_source": "mobile_app"
  }
})";
  json::value v = Send("POST", "/api/internal/scan-validation", body).Json();
  EXPECT_TRUE(v.at("valid").as_bool()) << json::serialize(v);
  EXPECT_EQ(v.at("ticketId").as_int64(), 1);
  v = Send("POST", "/api/internal/scan-validation", body).Json();
  EXPECT_TRUE(v.at("repeat").as_bool());  // the same device again within seconds
  json::value stats = Data(Send("GET", "/api/events/1/scan-stats"));
  EXPECT_EQ(stats.at("admitted").as_int64(), 1);
  EXPECT_EQ(stats.at("by_gate").as_array()[0].at("gate").as_string(), "A");
}

TEST_F(TicketHttpTest, EightGatesScanTheSameThousandTicketsExactlyOnce) {
  std::vector<json::value> tickets = EventWithTickets(7, 1000);
  ASSERT_EQ(tickets.size(), 1000u);
  std::vector<std::string> bodies;
  for (const json::value& t : tickets) {
    bodies.push_back(StrCat(R"({"ticket_code":")", Str(t, "qr_code_data"), R"(","event_id":7})"));
  }
  // Every gate scans the tickets in the same order, so the eight race on each ticket. Each
  // refused gate is told the gate that admitted it.
  std::atomic<int> admitted{0}, already{0}, other{0};
  std::vector<std::atomic<int>> admitted_by(bodies.size());
  for (auto& a : admitted_by) a = -1;
  std::vector<std::vector<std::pair<size_t, std::string>>> told(8);  // per gate: ticket, gate
  std::vector<std::thread> gates;
  for (int g = 0; g < 8; ++g) {
    gates.emplace_back([&, g] {
      Client c(server_->port());
      for (size_t i = 0; i < bodies.size(); ++i) {
        std::string body = bodies[i];
        body.insert(body.size() - 1,
                    StrCat(R"(,"scanner_id":"gate-)", g, R"(","gate":"G)", g, "\""));
        ClientResponse r =
            c.Send("POST", "/api/scans/validate", body, {{"Authorization", "Bearer scans:create"}});
        json::value v = r.Json();
        if (r.status != 200 || !v.is_object()) {
          ++other;
        } else if (v.at("valid").as_bool()) {
          ++admitted;
          admitted_by[i] = g;
        } else if (v.at("reason").as_string() == "already_used") {
          ++already;
          told[g].emplace_back(i, Str(v.at("firstScan"), "gate"));
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : gates) t.join();
  EXPECT_EQ(admitted.load(), 1000);
  EXPECT_EQ(already.load(), 7000);
  EXPECT_EQ(other.load(), 0);
  for (const auto& gate : told) {
    for (const auto& [i, first_gate] : gate) {
      ASSERT_EQ(first_gate, StrCat("G", admitted_by[i].load())) << "ticket " << i;
    }
  }
  json::value stats = Data(Send("GET", "/api/events/7/scan-stats"));
  EXPECT_EQ(stats.at("admitted").as_int64(), 1000);
  EXPECT_EQ(stats.at("scans").as_int64(), 8000);
  int64_t entries = 0;
  for (const json::value& g : stats.at("by_gate").as_array()) entries += g.at("entries").as_int64();
  EXPECT_EQ(entries, 1000);
}

TEST_F(TicketHttpTest, OfflineBundleAndUpload) {
  std::vector<json::value> t = EventWithTickets(3, 3);
  ASSERT_EQ(Send("POST", StrCat("/api/tickets/", t[2].at("id").as_int64(), "/cancel")).status, 200);
  json::value bundle = Data(Send("GET", "/api/events/3/scan-bundle"));
  ASSERT_EQ(bundle.at("keys").as_array().size(), 1u);
  EXPECT_EQ(Str(bundle.at("keys").as_array()[0], "algorithm"), "Ed25519");
  ASSERT_EQ(bundle.at("revoked").as_array().size(), 1u);
  EXPECT_EQ(bundle.at("revoked").as_array()[0].at("ticket_id"), t[2].at("id"));
  const int64_t cursor = bundle.at("revoked_cursor").as_int64();
  EXPECT_TRUE(Data(Send("GET", StrCat("/api/events/3/scan-bundle?since=", cursor)))
                  .at("revoked")
                  .as_array()
                  .empty());
  // An operator reads only the events where they are door staff: the bundle, the event, its
  // ticket types, gates, door staff and keys, and the event list.
  const std::vector<std::string> event_reads = {"/api/events/3/scan-bundle",  "/api/events/3",
                                                "/api/events/3/ticket-types", "/api/events/3/gates",
                                                "/api/events/3/operators",    "/api/events/3/keys"};
  auto listed = [&](const std::string& who) {
    std::vector<int64_t> ids;
    const json::value events = Data(Send("GET", "/api/events", "", who));
    for (const json::value& e : events.as_array()) {
      ids.push_back(e.at("id").as_int64());
    }
    return ids;
  };
  for (const std::string& target : event_reads) {
    EXPECT_EQ(Send("GET", target, "", "operator:u9").status, 403) << target;
  }
  EXPECT_TRUE(listed("operator:u9").empty());
  ASSERT_EQ(
      Send("PUT", "/api/events/3/operators/door-9", R"({"user_id":"u9","name":"Marc"})").status,
      200);
  for (const std::string& target : event_reads) {
    EXPECT_EQ(Send("GET", target, "", "operator:u9").status, 200) << target;
  }
  EXPECT_EQ(listed("operator:u9"), std::vector<int64_t>{3});
  const json::value staff =
      Data(Send("GET", "/api/events/3/scan-bundle")).at("rules").at("door_staff");
  ASSERT_EQ(staff.as_array().size(), 1u);
  EXPECT_EQ(Str(staff.as_array()[0], "user_id"), "u9");
  EXPECT_GE(listed("events:read").size(), 1u);  // others see every event

  std::string now = Rfc3339(stack_->clock.Now() - absl::Minutes(3));
  std::string code = Str(t[0], "qr_code_data");
  std::string up =
      StrCat(R"({"scanner_id":"tablet-1","scans":[)", R"({"ticket_code":")", code,
             R"(","event_id":3,"timestamp":")", now, R"(","nonce":"a1","admitted":true},)",
             R"({"ticket_code":")", code, R"(","event_id":3,"timestamp":")", now,
             R"(","nonce":"a2","admitted":true,"scanner_id":"tablet-2"},)", R"({"ticket_code":")",
             Str(t[2], "qr_code_data"), R"(","event_id":3,"timestamp":")", now,
             R"(","nonce":"a3","admitted":true}]})");
  json::value res = Data(Send("POST", "/api/scans/offline", up, "operator:u9"));
  EXPECT_EQ(res.at("recorded").as_int64(), 3);
  EXPECT_EQ(res.at("conflicts").as_int64(), 2);  // the double entry and the cancelled ticket
  const json::array& results = res.at("results").as_array();
  EXPECT_EQ(Str(results[0], "reason"), "ok");
  EXPECT_EQ(Str(results[1], "reason"), "already_used");
  EXPECT_TRUE(results[1].at("conflict").as_bool());
  EXPECT_EQ(Str(results[2], "reason"), "cancelled");
  json::value conflicts = Data(Send("GET", "/api/scans?event_id=3&conflicts=true"));
  EXPECT_EQ(conflicts.as_array().size(), 2u);
}

TEST_F(TicketHttpTest, ClientMistakesAre4xxWithTheErrorShape) {
  EventWithTickets(5, 1);
  struct Case {
    std::string method, target, body;
    int status;
  } cases[] = {
      {"POST", "/api/scans/validate", "{", 400},
      {"POST", "/api/scans/validate", "[]", 400},
      {"POST", "/api/scans/validate", R"({"event_id":5})", 400},
      {"POST", "/api/scans/validate", R"({"ticket_code":5})", 400},
      {"POST", "/api/scans/validate", R"({"ticket_code":"x","event_id":"abc"})", 400},
      {"POST", "/api/scans/validate", R"({"ticket_code":"x","surprise":1})", 400},
      {"POST", "/api/scans/validate", R"({"ticket_code":"x","direction":"sideways"})", 400},
      {"POST", "/api/scans/offline", R"({"scans":[]})", 400},
      {"POST", "/api/scans/offline", R"({"scans":[{"ticket_code":"x"}]})", 400},  // no time
      {"POST", "/api/scans/offline",
       R"({"scans":[{"ticket_code":"x","timestamp":"2026-01-01T00:00:00Z"}]})", 400},  // no nonce
      {"POST", "/api/internal/scan-confirmation", R"({"ticketId":1})", 400},
      {"POST", "/api/internal/scan-confirmation", R"({"ticketId":1,"scanId":"s","status":"maybe"})",
       400},
      {"POST", "/api/events", R"({"title":"No date"})", 400},
      {"POST", "/api/events", R"({"title":"x","event_date":"tomorrow"})", 400},
      {"POST", "/api/events",
       R"({"title":"x","event_date":"2026-06-20T09:00:00Z","timezone":"Mars/Olympus"})", 400},
      {"POST", "/api/events", R"({"id":5,"title":"x","event_date":"2026-06-20T09:00:00Z"})", 409},
      {"GET", "/api/events/abc", "", 400},
      {"GET", "/api/events/999", "", 404},
      {"POST", "/api/events/5/guests", R"({"email":"nobody"})", 400},
      {"POST", "/api/events/5/guests", R"({"first_name":"A","email":"jean.dupont@example.com"})",
       409},
      {"POST", "/api/events/5/tickets", R"({"guest_id":999})", 400},
      {"POST", "/api/events/5/tickets", R"({"tickets":[]})", 400},
      {"DELETE", "/api/events/5", "", 409},
      {"POST", "/api/tickets/999/cancel", "", 404},
  };
  for (const Case& c : cases) {
    ClientResponse r = Send(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " " << r.body;
    json::value v = r.Json();
    ASSERT_TRUE(v.is_object() && v.as_object().contains("error")) << r.body;
    EXPECT_FALSE(v.at("error").at("message").as_string().empty());
  }
  // Nothing changed: event 5 still has its one ticket and one guest.
  EXPECT_EQ(Data(Send("GET", "/api/events/5/tickets")).as_array().size(), 1u);
  EXPECT_EQ(Data(Send("GET", "/api/events/5/guests")).as_array().size(), 1u);
  EXPECT_TRUE(Data(Send("GET", "/api/scans?event_id=5")).as_array().empty());
}

TEST_F(TicketHttpTest, GuestCsvImportReportsBadRowsByLine) {
  EventWithTickets(8, 1);  // jean.dupont@example.com is already a guest
  const std::string csv =
      "Prénom;Nom;Courriel;Téléphone;Notes\r\n"
      "Marie;Curie;marie@example.com;06 12 34 56 78;VIP\r\n"
      "Jean;Dupont;jean.dupont@example.com;;\r\n"
      "Pierre;;not-an-email;;\r\n"
      "\"Anne, Sophie\";Martin;anne@example.com;+33 7 00 00 00 01;\r\n";
  Client c(server_->port());
  ClientResponse dry = c.Send("POST", "/api/events/8/guests/import?dry_run=true", csv,
                              {{"Authorization", "Bearer *"}, {"Content-Type", "text/csv"}});
  json::value d = Data(dry);
  EXPECT_EQ(d.at("valid").as_int64(), 2);
  EXPECT_EQ(d.at("imported").as_int64(), 0);
  EXPECT_EQ(Data(Send("GET", "/api/events/8/guests")).as_array().size(), 1u);
  ClientResponse r = c.Send("POST", "/api/events/8/guests/import", csv,
                            {{"Authorization", "Bearer *"}, {"Content-Type", "text/csv"}});
  json::value v = Data(r);
  EXPECT_EQ(v.at("records").as_int64(), 4);
  EXPECT_EQ(v.at("imported").as_int64(), 2);
  ASSERT_EQ(v.at("errors").as_array().size(), 2u) << r.body;
  std::vector<int64_t> lines;
  for (const json::value& e : v.at("errors").as_array()) lines.push_back(e.at("line").as_int64());
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(v.at("ignored_columns").as_array().size(), 1u);
  const json::array& guests = v.at("guests").as_array();
  EXPECT_EQ(Str(guests[0], "phone"), "+33612345678");
  EXPECT_EQ(Str(guests[1], "first_name"), "Anne, Sophie");
  EXPECT_EQ(Data(Send("GET", "/api/events/8/guests")).as_array().size(), 3u);
}

TEST_F(TicketHttpTest, EventsTicketsAndKeysRoundTrip) {
  std::vector<json::value> t = EventWithTickets(9, 1);
  json::value e = Data(Send("GET", "/api/events/9"));
  EXPECT_EQ(Str(e, "title"), "Tech Conference 2025");
  EXPECT_EQ(Str(e, "code_mode"), "signed");
  json::value type = Data(
      Send("POST", "/api/events/9/ticket-types", R"({"name":"VIP","price":9999,"quantity":1})"));
  EXPECT_EQ(type.at("price").as_int64(), 9999);
  std::string issue = StrCat(R"({"ticket_type_id":)", type.at("id").as_int64(), "}");
  ASSERT_EQ(Send("POST", "/api/events/9/tickets", issue).status, 201);
  EXPECT_EQ(Send("POST", "/api/events/9/tickets", issue).status, 409);  // sold out
  json::value re =
      Data(Send("POST", StrCat("/api/tickets/", t[0].at("id").as_int64(), "/reissue")));
  EXPECT_EQ(re.at("generation").as_int64(), 1);
  EXPECT_NE(Str(re, "qr_code_data"), Str(t[0], "qr_code_data"));
  json::value k2 = Data(Send("POST", "/api/events/9/keys/rotate"));
  EXPECT_EQ(k2.at("key_id").as_int64(), 2);
  // Offline scanners get both keys: codes key 1 signed stay valid after a rotation.
  const auto bundle_keys = [&] {
    return Data(Send("GET", "/api/events/9/scan-bundle")).at("keys");
  };
  json::value keys = bundle_keys();
  ASSERT_EQ(keys.as_array().size(), 2u) << keys;
  EXPECT_TRUE(keys.as_array()[0].at("revoked_at").is_null());
  json::value revoked = Data(Send("POST", "/api/events/9/keys/1/revoke"));
  EXPECT_FALSE(revoked.at("revoked_at").is_null());
  keys = bundle_keys();
  ASSERT_EQ(keys.as_array().size(), 2u) << keys;
  EXPECT_FALSE(keys.as_array()[0].at("revoked_at").is_null()) << keys;
  json::value scan =
      Send("POST", "/api/scans/validate",
           StrCat(R"({"ticket_code":")", Str(re, "qr_code_data"), R"(","event_id":9})"))
          .Json();
  EXPECT_EQ(Str(scan, "reason"), "key_revoked");
  json::value tmpl = Data(
      Send("POST", "/api/ticket-templates", R"({"name":"Premium Template","design":"modern"})"));
  EXPECT_EQ(Str(tmpl, "design"), "modern");
  EXPECT_EQ(Data(Send("GET", "/api/ticket-templates")).as_array().size(), 1u);
}

TEST_F(TicketHttpTest, GuestsEventsGatesAndTemplatesAreReadChangedAndDeleted) {
  std::vector<json::value> t = EventWithTickets(31, 1);
  EventWithTickets(32, 0);
  // Guests: read, replaced (the email lower-cased, the phone normalised), deleted once free.
  json::value holder = Data(Send("GET", "/api/events/31/guests")).as_array()[0];
  const std::string holder_path = StrCat("/api/guests/", holder.at("id").as_int64());
  json::value replaced =
      Data(Send("PUT", holder_path,
                R"({"first_name":"Jean","last_name":"Martin","email":"JEAN.MARTIN@example.com"})"));
  EXPECT_EQ(Str(replaced, "last_name"), "Martin");
  EXPECT_EQ(Str(replaced, "email"), "jean.martin@example.com");
  EXPECT_EQ(Str(Data(Send("GET", holder_path)), "last_name"), "Martin");
  EXPECT_EQ(Send("PUT", holder_path, R"({"email":"not an email"})").status, 400);
  EXPECT_EQ(Send("DELETE", holder_path).status, 409);  // holds a ticket
  json::value other = Data(Send("POST", "/api/events/31/guests", R"({"first_name":"Paul"})"));
  const std::string other_path = StrCat("/api/guests/", other.at("id").as_int64());
  EXPECT_EQ(
      Send("PUT", other_path, R"({"first_name":"Paul","email":"jean.martin@example.com"})").status,
      409);  // another guest's email
  EXPECT_EQ(Send("DELETE", other_path).status, 200);
  EXPECT_EQ(Send("GET", other_path).status, 404);
  // Gates: created, replaced, deleted.
  ASSERT_EQ(Send("PUT", "/api/events/31/gates/north", R"({"name":"North","kind":"entry"})").status,
            200);
  json::value gate =
      Data(Send("PUT", "/api/events/31/gates/north", R"({"name":"North door","kind":"both"})"));
  EXPECT_EQ(Str(gate, "kind"), "both");
  EXPECT_EQ(Send("PUT", "/api/events/31/gates/north", R"({"kind":"sideways"})").status, 400);
  EXPECT_EQ(Data(Send("GET", "/api/events/31/gates")).as_array().size(), 1u);
  EXPECT_EQ(Send("DELETE", "/api/events/31/gates/north").status, 200);
  EXPECT_TRUE(Data(Send("GET", "/api/events/31/gates")).as_array().empty());
  // Templates: created, replaced, deleted.
  json::value tpl =
      Data(Send("POST", "/api/ticket-templates", R"({"name":"Classic","design":"classic"})"));
  const std::string tpl_path = StrCat("/api/ticket-templates/", tpl.at("id").as_int64());
  EXPECT_EQ(Str(Data(Send("PUT", tpl_path, R"({"name":"Classic 2","design":"modern"})")), "design"),
            "modern");
  EXPECT_EQ(Send("DELETE", tpl_path).status, 200);
  EXPECT_EQ(Send("GET", tpl_path).status, 404);
  // Events: an event with tickets stays (cancel it instead); one without goes.
  EXPECT_EQ(Send("DELETE", "/api/events/31").status, 409);
  const json::value guests32 = Data(Send("GET", "/api/events/32/guests"));
  ASSERT_EQ(guests32.as_array().size(), 1u);
  EXPECT_EQ(Send("DELETE", "/api/events/32").status, 200);
  EXPECT_EQ(Send("GET", "/api/events/32").status, 404);
  EXPECT_EQ(Send("GET", StrCat("/api/guests/", guests32.as_array()[0].at("id").as_int64())).status,
            404);  // its guests went with it
}

TEST_F(TicketHttpTest, TicketTypesAreReadReplacedAndDeleted) {
  EventWithTickets(21, 0);
  EventWithTickets(22, 0);
  json::value vip = Data(
      Send("POST", "/api/events/21/ticket-types", R"({"name":"VIP","price":9999,"quantity":2})"));
  json::value std_type =
      Data(Send("POST", "/api/events/21/ticket-types", R"({"name":"Standard","price":2500})"));
  const std::string path = StrCat("/api/events/21/ticket-types/", vip.at("id").as_int64());
  EXPECT_EQ(Str(Data(Send("GET", path)), "name"), "VIP");
  // Another event's path does not reach it.
  EXPECT_EQ(Send("GET", StrCat("/api/events/22/ticket-types/", vip.at("id").as_int64())).status,
            404);
  EXPECT_EQ(Send("DELETE", StrCat("/api/events/22/ticket-types/", vip.at("id").as_int64())).status,
            404);
  ASSERT_EQ(Send("POST", "/api/events/21/tickets",
                 StrCat(R"({"tickets":[{"ticket_type_id":)", vip.at("id").as_int64(),
                        R"(},{"ticket_type_id":)", vip.at("id").as_int64(), "}]}"))
                .status,
            201);
  // A replacement: a new name and more seats, at the price its tickets were sold at.
  json::value changed = Data(Send("PUT", path, R"({"name":"VIP Gold","price":9999,"quantity":3})"));
  EXPECT_EQ(Str(changed, "name"), "VIP Gold");
  EXPECT_EQ(changed.at("quantity").as_int64(), 3);
  // Refused, and nothing changes: a new price or VAT rate once sold, fewer seats than tickets,
  // another type's name, bad fields.
  EXPECT_EQ(Send("PUT", path, R"({"name":"VIP Gold","price":12000,"quantity":3})").status, 409);
  EXPECT_EQ(Send("PUT", path, R"({"name":"VIP Gold","price":9999,"vat_rate":20})").status, 409);
  EXPECT_EQ(Send("PUT", path, R"({"name":"VIP Gold","price":9999,"quantity":1})").status, 409);
  EXPECT_EQ(Send("PUT", path, R"({"name":"Standard","price":9999})").status, 409);
  EXPECT_EQ(Send("PUT", path, R"({"name":"","price":12000})").status, 400);
  EXPECT_EQ(Send("PUT", path, R"({"name":"x","price":-1})").status, 400);
  EXPECT_EQ(Send("PUT", path, R"({"name":"x","colour":"gold"})").status, 400);
  json::value still = Data(Send("GET", path));
  EXPECT_EQ(Str(still, "name"), "VIP Gold");
  EXPECT_EQ(still.at("price").as_int64(), 9999);
  EXPECT_EQ(still.at("quantity").as_int64(), 3);
  // A type with tickets stays; one without goes.
  EXPECT_EQ(Send("DELETE", path).status, 409);
  const std::string std_path = StrCat("/api/events/21/ticket-types/", std_type.at("id").as_int64());
  // A type nothing was sold of may change its price.
  EXPECT_EQ(Data(Send("PUT", std_path, R"({"name":"Standard","price":3000,"vat_rate":5.5})"))
                .at("price")
                .as_int64(),
            3000);
  EXPECT_EQ(Send("DELETE", std_path).status, 200);
  EXPECT_EQ(Send("GET", std_path).status, 404);
  EXPECT_EQ(Data(Send("GET", "/api/events/21/ticket-types")).as_array().size(), 1u);
  // Door staff of another event cannot read it.
  EXPECT_EQ(Send("GET", path, "", "operator:u9").status, 403);
}

TEST_F(TicketHttpTest, ATicketChangesHolderOrSeatAndIsReissued) {
  std::vector<json::value> t = EventWithTickets(23, 2);
  EventWithTickets(24, 0);
  json::value marie =
      Data(Send("POST", "/api/events/23/guests", R"({"first_name":"Marie","last_name":"Curie"})"));
  json::value other = Data(Send("GET", "/api/events/24/guests")).as_array()[0];
  const int64_t id = t[0].at("id").as_int64();
  const std::string path = StrCat("/api/tickets/", id);
  // Its file, as a generator records it.
  ASSERT_TRUE(stack_->store
                  ->Write([&](store::Txn& txn) {
                    return stack_->ticketing->SetTicketFile(txn, id, "doc-1", "/api/documents/d",
                                                            "ab/d.pdf", "7");
                  })
                  .ok());
  json::value changed = Data(Send(
      "PATCH", path, StrCat(R"({"guest_id":)", marie.at("id").as_int64(), R"(,"seat":"B7"})")));
  EXPECT_EQ(changed.at("guest_id").as_int64(), marie.at("id").as_int64());
  EXPECT_EQ(Str(changed, "seat"), "B7");
  for (const char* file :
       {"ticket_file_url", "ticket_file_path", "document_id", "generation_job_id"}) {
    EXPECT_EQ(Str(changed, file), "") << file;
  }
  // Reissued: the old holder's code is revoked, the new one admits.
  EXPECT_EQ(changed.at("generation").as_int64(), 1);
  EXPECT_NE(Str(changed, "qr_code_data"), Str(t[0], "qr_code_data"));
  EXPECT_NE(Str(changed, "ticket_code"), Str(t[0], "ticket_code"));
  EXPECT_EQ(Str(Scan(Str(t[0], "qr_code_data"), 23, R"(,"scanner_id":"s0")"), "reason"), "revoked");
  // The door shows the new holder and seat.
  json::value scan = Scan(Str(changed, "qr_code_data"), 23, R"(,"scanner_id":"s1")");
  EXPECT_TRUE(scan.at("valid").as_bool()) << scan;
  EXPECT_EQ(Str(scan, "guestName"), "Marie Curie");
  EXPECT_EQ(Str(scan, "seat"), "B7");
  // Refused, and nothing changes: a scanned ticket, a guest of another event, a cancelled
  // ticket, an empty or unknown body.
  EXPECT_EQ(Send("PATCH", path, R"({"seat":"C1"})").status, 409);
  const std::string path1 = StrCat("/api/tickets/", t[1].at("id").as_int64());
  EXPECT_EQ(Send("PATCH", path1, StrCat(R"({"guest_id":)", other.at("id").as_int64(), "}")).status,
            400);
  EXPECT_EQ(Send("PATCH", path1, "{}").status, 400);
  EXPECT_EQ(Send("PATCH", path1, R"({"status":"used"})").status, 400);
  EXPECT_EQ(Send("PATCH", path1, R"({"seat":")" + std::string(33, 'x') + R"("})").status, 400);
  EXPECT_EQ(Send("PATCH", "/api/tickets/999999", R"({"seat":"C1"})").status, 404);
  EXPECT_EQ(Str(Data(Send("GET", path1)), "seat"), "A1");
  // No holder: "guest_id": null.
  json::value anonymous = Data(Send("PATCH", path1, R"({"guest_id":null})"));
  EXPECT_TRUE(anonymous.at("guest_id").is_null()) << anonymous;
  ASSERT_EQ(Send("POST", path1 + "/cancel").status, 200);
  EXPECT_EQ(Send("PATCH", path1, R"({"seat":"C1"})").status, 409);
  // Door staff may not change tickets.
  EXPECT_EQ(Send("PATCH", path1, R"({"seat":"C1"})", "operator:u1").status, 403);
}

// Every reason a door refuses a ticket, over HTTP: the stable code, a message in both
// languages, a scan-log row, and no admission.
TEST_F(TicketHttpTest, EveryRefusalHasItsReasonAndIsLogged) {
  std::vector<json::value> t = EventWithTickets(25, 8);
  EventWithTickets(26, 0);
  const auto code = [&](size_t i) { return Str(t[i], "qr_code_data"); };
  // A forged code: the same claims signed with a key of no event.
  tk::SignedCode real = tk::ParseSignedCode(code(0)).value();
  const std::string forged = tk::EncodeSignedCode(real.claims, tk::GenerateSigningKey()).value();
  std::string tampered = code(1);
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  ASSERT_EQ(Send("POST", StrCat("/api/tickets/", t[2].at("id").as_int64(), "/cancel")).status, 200);
  const std::string before_reissue = code(3);
  ASSERT_EQ(Send("POST", StrCat("/api/tickets/", t[3].at("id").as_int64(), "/reissue")).status,
            200);
  ASSERT_EQ(Send("PUT", "/api/events/25/gates/A", R"({"name":"North","kind":"entry"})").status,
            200);
  ASSERT_EQ(Send("PUT", "/api/events/25/operators/operator-123", R"({"gates":["A"]})").status, 200);
  int scans = 0;  // each from a scanner of its own: none is a repeat of another
  const auto scan = [&](const std::string& c, int64_t event, const std::string& extra = "") {
    return Scan(c, event, StrCat(R"(,"scanner_id":"refusal-)", ++scans, R"(")", extra));
  };
  struct Case {
    std::string reason;
    json::value answer;
  };
  std::vector<Case> cases;
  cases.push_back({"invalid_code", scan("not a ticket", 25)});
  cases.push_back({"invalid_signature", scan(forged, 25)});
  cases.push_back({"invalid_signature", scan(tampered, 25)});
  cases.push_back({"cancelled", scan(code(2), 25)});
  cases.push_back({"revoked", scan(before_reissue, 25)});
  cases.push_back({"wrong_event", scan(code(4), 26)});
  cases.push_back({"operator_not_allowed", scan(code(4), 25, R"(,"operator_id":"stranger")")});
  cases.push_back(
      {"gate_not_allowed",
       scan(code(4), 25, R"(,"operator_id":"operator-123","scan_location":{"gate":"B"})")});
  ASSERT_TRUE(scan(code(5), 25, R"(,"operator_id":"operator-123","scan_location":{"gate":"A"})")
                  .at("valid")
                  .as_bool());
  cases.push_back(
      {"already_used",
       scan(code(5), 25, R"(,"operator_id":"operator-123","scan_location":{"gate":"A"})")});
  // Outside the event's window, on the manual clock.
  const absl::Time now = stack_->clock.Now();
  stack_->clock.Set(now - absl::Hours(24));
  cases.push_back(
      {"not_yet_valid",
       scan(code(6), 25, R"(,"operator_id":"operator-123","scan_location":{"gate":"A"})")});
  stack_->clock.Set(now + absl::Hours(24 * 30));
  cases.push_back(
      {"expired",
       scan(code(6), 25, R"(,"operator_id":"operator-123","scan_location":{"gate":"A"})")});
  stack_->clock.Set(now);
  for (const Case& c : cases) {
    ASSERT_TRUE(c.answer.is_object()) << c.reason;
    EXPECT_FALSE(c.answer.at("valid").as_bool()) << c.reason;
    EXPECT_EQ(Str(c.answer, "reason"), c.reason) << c.answer;
    EXPECT_FALSE(c.answer.at("messages").at("fr").as_string().empty()) << c.reason;
    EXPECT_FALSE(c.answer.at("messages").at("en").as_string().empty()) << c.reason;
    EXPECT_NE(c.answer.at("messages").at("fr"), c.answer.at("messages").at("en")) << c.reason;
  }
  // Capacity: an event of one, full.
  EventWithTickets(27, 0);
  ASSERT_EQ(Send("PUT", "/api/events/27",
                 StrCat(R"({"title":"Small","event_date":")",
                        Rfc3339(stack_->clock.Now() + absl::Hours(2)), R"(","max_attendees":1})"))
                .status,
            200);
  json::value two = Data(Send("POST", "/api/events/27/tickets", R"({"tickets":[{},{}]})"));
  ASSERT_TRUE(scan(Str(two.as_array()[0], "qr_code_data"), 27).at("valid").as_bool());
  json::value full = scan(Str(two.as_array()[1], "qr_code_data"), 27);
  EXPECT_EQ(Str(full, "reason"), "capacity_reached") << full;
  // Every attempt is in the scan log with its reason; only the one admission counts.
  json::value log = Data(Send("GET", "/api/scans?event_id=25&limit=100"));
  std::multiset<std::string> logged;
  for (const json::value& row : log.as_array()) logged.insert(Str(row, "result"));
  for (const Case& c : cases) {
    if (c.reason == "wrong_event") continue;  // logged under the event scanned for
    EXPECT_GE(logged.count(c.reason), 1u) << c.reason;
  }
  json::value stats = Data(Send("GET", "/api/events/25/scan-stats"));
  EXPECT_EQ(stats.at("admitted").as_int64(), 1) << stats;
}

TEST_F(TicketHttpTest, Seed003PaymentFlowVerbatim) {
  // Event 456 whose tickets 789 and 790 await payment, as the seed's body names them.
  std::vector<json::value> issued = EventWithTickets(456, 788);
  ASSERT_EQ(issued.back().at("id").as_int64(), 788);
  json::value type = Data(Send("POST", "/api/events/456/ticket-types",
                               R"({"name":"standard","price":4999,"vat_rate":20})"));
  EXPECT_EQ(type.at("vat_rate").as_int64(), 20);
  std::string pending = StrCat(R"({"tickets":[{"ticket_type_id":)", type.at("id").as_int64(),
                               R"(,"status":"pending"},{"ticket_type_id":)",
                               type.at("id").as_int64(), R"(,"status":"pending"}]})");
  json::value two = Data(Send("POST", "/api/events/456/tickets", pending));
  ASSERT_EQ(two.as_array()[0].at("id").as_int64(), 789);
  // Their codes are signed: the offline bundle tells scanners to refuse them until paid.
  auto unpaid = [&] {
    return json::serialize(Data(Send("GET", "/api/events/456/scan-bundle")).at("unpaid"));
  };
  EXPECT_EQ(unpaid(), "[789,790]");
  const std::string body = R"({
  "amount": 99.99,
  "currency": "EUR",
  "description": "Event tickets purchase",
  "customerEmail": "user@example.com",
  "customerName": "John Doe",
  "returnUrl": "https://app.eventplanner.com/payment/return",
  "preferredGateways": ["stripe"],
  "metadata": {
    "eventId": 456,
    "ticketIds": [789, 790],
    "source": "event-planner-core"
  }
})";
  ClientResponse r = Send("POST", "/api/payments/process", body);
  ASSERT_EQ(r.status, 201) << r.body;
  json::value p = r.Json().at("data");
  EXPECT_EQ(p.at("amountMinor").as_int64(), 9998);  // the store's prices, not the client's 99.99
  EXPECT_EQ(Str(p, "currency"), "EUR");
  EXPECT_EQ(Str(p, "status"), "pending");
  const std::string intent = Str(p, "paymentIntentId");
  EXPECT_TRUE(Str(p, "clientSecret").starts_with(intent + "_secret_"));
  EXPECT_EQ(Str(Scan(Str(two.as_array()[0], "ticket_code"), 456), "reason"), "unpaid");

  // Seed 003's payment webhook as printed: its intent is none of Herald's, so the inbox keeps
  // it and nothing moves. Then the same body with the intent Herald created.
  std::string hook = R"({
  "eventType": "payment.completed",
  "paymentIntentId": "pi_1234567890",
  "status": "completed",
  "timestamp": "2026-01-30T03:00:00Z",
  "data": {
    "payment_service_id": "pay_1234567890",
    "gateway": "stripe",
    "amount": 99.99,
    "currency": "EUR",
    "completed_at": "2026-01-30T03:00:00Z"
  }
})";
  ASSERT_EQ(Send("POST", "/api/internal/payment-webhook", hook).status, 200);
  stack_->engine->RunDue();
  EXPECT_EQ(
      Str(Data(Send("GET", StrCat("/api/purchases/", p.at("purchaseId").as_int64()))), "status"),
      "pending");
  hook.replace(hook.find("pi_1234567890"), 13, intent);
  ClientResponse w = Send("POST", "/api/internal/payment-webhook", hook);
  ASSERT_EQ(w.status, 200) << w.body;
  stack_->engine->RunDue();
  json::value purchase =
      Data(Send("GET", StrCat("/api/purchases/", p.at("purchaseId").as_int64())));
  EXPECT_EQ(Str(purchase, "status"), "paid");
  EXPECT_EQ(Str(Data(Send("GET", "/api/tickets/790")), "status"), "issued");
  EXPECT_EQ(unpaid(), "[]");
  json::value scan = Scan(Str(two.as_array()[1], "qr_code_data"), 456);
  EXPECT_TRUE(scan.at("valid").as_bool()) << json::serialize(scan);
  EXPECT_EQ(Str(scan, "guestName"), "John Doe");

  // The payment also started the tickets' generation and the confirmation with the invoice:
  // the buyer gets both emails, each once, with the PDFs attached.
  json::value t790 = Data(Send("GET", "/api/tickets/790"));
  EXPECT_FALSE(Str(t790, "generation_job_id").empty());
  EXPECT_FALSE(Str(t790, "document_id").empty());
  json::value generation =
      Data(Send("GET", StrCat("/api/tickets/generation-jobs/", Str(t790, "generation_job_id"))));
  EXPECT_EQ(Str(generation, "status"), "completed");
  EXPECT_EQ(generation.at("successful").as_int64(), 2);
  EXPECT_EQ(generation.at("purchaseId").as_int64(), p.at("purchaseId").as_int64());
  std::map<std::string, notify::Notification> sent;
  std::vector<notify::Notification> history = stack_->notifier->History({}).value();
  for (notify::Notification& n : history) {
    EXPECT_EQ(n.recipient, "user@example.com");
    EXPECT_TRUE(sent.emplace(n.template_id, std::move(n)).second) << "sent twice";
  }
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_TRUE(sent.contains("ticket_generated"));
  ASSERT_TRUE(sent.contains("payment_confirmation"));
  EXPECT_EQ(sent.at("payment_confirmation").subject, "Paiement confirmé : 99,98\u00A0€");
  const std::string invoice_id =
      std::string(sent.at("payment_confirmation").metadata.at("invoiceDocumentId").as_string());
  docs::DocumentRecord invoice = stack_->documents->Get(invoice_id).value();
  const std::string text = pdf_.Text(stack_->documents->ReadContent(invoice).value());
  EXPECT_NE(text.find("Event Planner SAS"), std::string::npos) << text;
  EXPECT_NE(text.find("INV-000001"), std::string::npos) << text;
  EXPECT_NE(text.find("John Doe"), std::string::npos) << text;
  EXPECT_NE(text.find("99,98"), std::string::npos) << text;
  // Ticket prices include VAT (20 %): 99,98 € is 83,32 € before a VAT of 16,66 €.
  for (const char* s : {"Prix unitaire TTC", "TVA 20", "16,66", "83,32"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s << " in " << text;
  }

  // The same webhook again changes nothing and sends nothing.
  ASSERT_EQ(Send("POST", "/api/internal/payment-webhook", hook).status, 200);
  stack_->engine->RunDue();
  EXPECT_EQ(stack_->notifier->History({}).value().size(), 2u);

  // Refunds: the payment service's refunded amount so far. Part of it keeps the tickets;
  // all of it cancels them, and scanners are told.
  const auto refund = [&](std::string_view amount, std::string_view at) {
    const std::string event = StrCat(R"({"eventType":"payment.refunded","paymentIntentId":")",
                                     intent, R"(","status":"refunded","timestamp":")", at,
                                     R"(","data":{"amount":)", amount, R"(,"currency":"EUR"}})");
    EXPECT_EQ(Send("POST", "/api/internal/payment-webhook", event).status, 200);
    stack_->engine->RunDue();
    return Data(Send("GET", StrCat("/api/purchases/", p.at("purchaseId").as_int64())));
  };
  json::value partly = refund("49.99", "2026-01-31T10:00:00Z");
  EXPECT_EQ(Str(partly, "status"), "partially_refunded") << partly;
  EXPECT_EQ(Str(Data(Send("GET", "/api/tickets/789")), "status"), "issued");
  json::value all = refund("99.99", "2026-02-01T10:00:00Z");
  EXPECT_EQ(Str(all, "status"), "refunded") << all;
  EXPECT_EQ(Str(Data(Send("GET", "/api/tickets/789")), "status"), "cancelled");
  EXPECT_EQ(Str(Scan(Str(two.as_array()[0], "qr_code_data"), 456), "reason"), "cancelled");
  std::string revoked =
      json::serialize(Data(Send("GET", "/api/events/456/scan-bundle")).at("revoked"));
  EXPECT_NE(revoked.find("789"), std::string::npos) << revoked;
  // Ticket 790 was scanned in: it stays used.
  EXPECT_EQ(Str(Data(Send("GET", "/api/tickets/790")), "status"), "used");
}

// A refund of a purchase that was never paid takes nothing back: its hold releases its
// tickets as usual.
TEST_F(TicketHttpTest, ARefundOfAnUnpaidPurchaseCancelsNothing) {
  EventWithTickets(457, 0);
  json::value type =
      Data(Send("POST", "/api/events/457/ticket-types", R"({"name":"standard","price":1000})"));
  json::value p = Data(Send(
      "POST", "/api/payments/process",
      StrCat(R"({"amount":10,"currency":"EUR","customerEmail":"a@example.com","eventId":457,)",
             R"("items":[{"ticketTypeId":)", type.at("id").as_int64(), R"(,"quantity":1}]})")));
  ASSERT_TRUE(p.is_object());
  const std::string intent = Str(p, "paymentIntentId");
  ASSERT_EQ(Send("POST", "/api/internal/payment-webhook",
                 StrCat(R"({"eventType":"payment.refunded","paymentIntentId":")", intent,
                        R"(","timestamp":"2026-01-31T10:00:00Z","data":{"amount":10}})"))
                .status,
            200);
  stack_->engine->RunDue();
  json::value purchase =
      Data(Send("GET", StrCat("/api/purchases/", p.at("purchaseId").as_int64())));
  EXPECT_EQ(Str(purchase, "status"), "pending") << purchase;
  EXPECT_NE(Str(purchase, "last_error").find("nothing cancelled"), std::string::npos) << purchase;
  const json::value tickets = Data(Send("GET", "/api/events/457/tickets"));
  ASSERT_EQ(tickets.as_array().size(), 1u);
  for (const json::value& t : tickets.as_array()) {
    EXPECT_EQ(Str(t, "status"), "pending");
  }
}

TEST_F(TicketHttpTest, Seed002PaymentWebhookBuysATemplateVerbatim) {
  // Event 1 and template 1, which the seed's payment names in its metadata.
  ASSERT_EQ(Send("POST", "/api/events",
                 StrCat(R"({"id":1,"title":"Tech Conference 2025","event_date":")",
                        Rfc3339(stack_->clock.Now() + absl::Hours(2)), R"("})"))
                .status,
            201);
  // A premium template: 49.99 EUR per ticket, which the seed's payment buys 2 of.
  ASSERT_EQ(Data(Send("POST", "/api/ticket-templates",
                      R"({"name":"Premium","design":"modern","price":4999,"currency":"eur",)"
                      R"("vat_rate":20})"))
                .at("id")
                .as_int64(),
            1);
  const std::string one_ticket = R"({"tickets":[{"template_id":1}]})";
  EXPECT_EQ(Send("POST", "/api/events/1/tickets", one_ticket).status, 409);
  // An organiser (tickets:*) edits the design, which keeps the price, but may not make the
  // template free: its terms are the seller's (payments:update).
  Client organiser(server_->port());
  const std::pair<std::string, std::string> as_organiser = {"Authorization", "Bearer tickets:*"};
  ClientResponse edited = organiser.Send(
      "PUT", "/api/ticket-templates/1", R"({"name":"Premium","design":"classic"})", {as_organiser});
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.Json().at("data").at("price").as_int64(), 4999);
  EXPECT_EQ(edited.Json().at("data").at("vat_rate").as_int64(), 20);
  EXPECT_EQ(
      organiser
          .Send("PUT", "/api/ticket-templates/1", R"({"name":"Premium","price":0})", {as_organiser})
          .status,
      403);
  EXPECT_EQ(
      organiser
          .Send("POST", "/api/ticket-templates", R"({"name":"Mine","price":1})", {as_organiser})
          .status,
      403);
  const std::string body = R"({
  "event_type": "payment.completed",
  "payment_id": "pay_1234567890",
  "amount": 9999,
  "currency": "EUR",
  "status": "succeeded",
  "timestamp": "2025-06-15T14:30:00Z",
  "metadata": {
    "event_id": 1,
    "user_id": 123,
    "ticket_count": 2,
    "template_id": 1
  },
  "customer": {
    "id": "cus_1234567890",
    "email": "customer@example.com",
    "name": "John Doe"
  },
  "payment_method": {
    "type": "card",
    "brand": "visa",
    "last4": "4242"
  },
  "webhook_id": "wh_1234567890",
  "created": 1640995200
})";
  ClientResponse w = Send("POST", "/api/payment-webhook-routes/", body);
  ASSERT_EQ(w.status, 200) << w.body;
  stack_->engine->RunDue();

  // The seed's four actions: the payment's status (the inbox), the template unlocked for user
  // 123, the confirmation email with the invoice PDF.
  EXPECT_EQ(Str(Data(Send("GET", "/api/webhooks/payments/pay_1234567890")), "state"), "paid");
  json::value bought = Data(Send("GET", "/api/ticket-templates/1/purchases?user_id=123"));
  ASSERT_EQ(bought.as_array().size(), 1u);
  EXPECT_EQ(Str(bought.as_array()[0], "payment_id"), "pay_1234567890");
  EXPECT_EQ(bought.as_array()[0].at("event_id").as_int64(), 1);
  EXPECT_EQ(bought.as_array()[0].at("ticket_count").as_int64(), 2);
  EXPECT_EQ(bought.as_array()[0].at("amount").as_int64(), 9999);
  EXPECT_TRUE(bought.as_array()[0].at("active").as_bool());
  EXPECT_TRUE(
      Data(Send("GET", "/api/ticket-templates/1/purchases?user_id=124")).as_array().empty());
  std::vector<notify::Notification> sent = stack_->notifier->History({}).value();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].recipient, "customer@example.com");
  EXPECT_EQ(sent[0].template_id, "payment_confirmation");
  EXPECT_EQ(sent[0].subject, "Paiement confirmé : 99,99\u00A0€");
  json::value licence = Data(Send("GET", "/api/ticket-templates/1/licences/1"));
  EXPECT_EQ(licence.at("licensed").as_int64(), 2);
  EXPECT_EQ(licence.at("remaining").as_int64(), 2);
  EXPECT_EQ(Send("POST", "/api/events/1/tickets", one_ticket).status, 201);
  EXPECT_EQ(Send("POST", "/api/events/1/tickets", one_ticket).status, 201);
  ClientResponse third = Send("POST", "/api/events/1/tickets", one_ticket);
  EXPECT_EQ(third.status, 409);
  EXPECT_NE(third.body.find("licence"), std::string::npos) << third.body;
  const std::string invoice_id = std::string(sent[0].metadata.at("invoiceDocumentId").as_string());
  docs::DocumentRecord invoice = stack_->documents->Get(invoice_id).value();
  const std::string text = pdf_.Text(stack_->documents->ReadContent(invoice).value());
  EXPECT_NE(text.find("INV-T000001"), std::string::npos) << text;
  // The template's VAT: 99,99 € holds 16,67 € (20/120, rounded half away from zero).
  EXPECT_NE(text.find("TVA 20"), std::string::npos) << text;
  EXPECT_NE(text.find("16,67"), std::string::npos) << text;
  EXPECT_NE(text.find("Premium"), std::string::npos) << text;
  EXPECT_NE(text.find("John Doe"), std::string::npos) << text;
  EXPECT_NE(text.find("99,99"), std::string::npos) << text;

  // Sent again (a retry): nothing more. Refunded in full: the access is taken back.
  ASSERT_EQ(Send("POST", "/api/payment-webhook-routes/", body).status, 200);
  std::string refund = body;
  refund.replace(refund.find("payment.completed"), 17, "payment.refunded");
  refund.replace(refund.find("wh_1234567890"), 13, "wh_1234567891");
  ASSERT_EQ(Send("POST", "/api/payment-webhook-routes/", refund).status, 200);
  stack_->engine->RunDue();
  EXPECT_EQ(stack_->notifier->History({}).value().size(), 1u);
  EXPECT_FALSE(
      Data(Send("GET", "/api/ticket-templates/1/purchases")).as_array()[0].at("active").as_bool());
  licence = Data(Send("GET", "/api/ticket-templates/1/licences/1"));
  EXPECT_EQ(licence.at("licensed").as_int64(), 0);
  EXPECT_EQ(licence.at("used").as_int64(), 2);
  EXPECT_EQ(Send("GET", "/api/ticket-templates/1/licences/2").status, 404);
  EXPECT_EQ(
      Send("GET", "/api/ticket-templates/1/purchases?user_id=" + std::string(129, 'u')).status,
      400);
}

TEST_F(TicketHttpTest, GenerationJobsTakeAnIdempotencyKeyAndCanBeCancelled) {
  EventWithTickets(1, 3);
  const std::string body = R"({"ticket_ids":[1,2,3],"options":{"pdfFormat":false}})";
  auto post = [&](const std::string& b) {
    Client c(server_->port());
    return c.Send("POST", "/api/tickets/generation-jobs", b,
                  {{"Authorization", "Bearer *"}, {"Idempotency-Key", "gen-42"}});
  };
  ClientResponse first = post(body);
  ASSERT_EQ(first.status, 202) << first.body;
  const int64_t id = first.Json().at("data").at("id").as_int64();
  ClientResponse again = post(body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json().at("data").at("id").as_int64(), id);
  EXPECT_TRUE(again.Json().at("data").at("replayed").as_bool());
  EXPECT_EQ(again.headers["location"], StrCat("/api/tickets/generation-jobs/", id));
  EXPECT_EQ(post(R"({"ticket_ids":[1,2],"options":{"pdfFormat":false}})").status, 409);

  json::value cancelled = Data(Send("DELETE", StrCat("/api/tickets/generation-jobs/", id)));
  EXPECT_EQ(Str(cancelled, "status"), "cancelled");
  EXPECT_EQ(cancelled.at("failed").as_int64(), 3);
  stack_->engine->RunDue();
  EXPECT_EQ(Str(Data(Send("GET", StrCat("/api/tickets/generation-jobs/", id))), "status"),
            "cancelled");
  EXPECT_EQ(Send("DELETE", "/api/tickets/generation-jobs/999").status, 404);
  ClientResponse other = Send("POST", "/api/tickets/generation-jobs", body);
  ASSERT_EQ(other.status, 202);
  stack_->engine->RunDue();
  EXPECT_EQ(Send("DELETE", StrCat("/api/tickets/generation-jobs/",
                                  other.Json().at("data").at("id").as_int64()))
                .status,
            409);
}

// An outside ticket generator's webhooks (seed 002 flow 4, seed 003 flow 3) record the files
// it made on the tickets; bodies naming no ticket of the store change nothing.
TEST_F(TicketHttpTest, OutsideGeneratorWebhooksRecordTheFiles) {
  std::vector<json::value> t = EventWithTickets(9, 3);
  const std::string code0 = Str(t[0], "ticket_code"), code1 = Str(t[1], "ticket_code");
  const int64_t id1 = t[1].at("id").as_int64(), id2 = t[2].at("id").as_int64();
  // Seed 002, verbatim: its ticket "ticket-123456" is not one of ours.
  const std::string seed002 = R"({
  "event_type": "ticket.generated",
  "ticket_id": "ticket-123456",
  "template_id": 1,
  "guest_id": 1,
  "event_id": 1,
  "generation_data": {
    "format": "pdf",
    "qr_code": true,
    "file_url": "https://tickets.example.com/files/ticket-123456.pdf",
    "qr_url": "https://tickets.example.com/qr/ticket-123456",
    "file_size": 245760,
    "qr_size": "medium"
  },
  "notification_sent": true,
  "generated_at": "2025-06-15T10:25:00Z",
  "processing_time_ms": 1250,
  "metadata": {
    "seat_number": "A15",
    "access_type": "VIP",
    "generation_time_ms": 1250,
    "queue_processing_time_ms": 200
  }
})";
  ASSERT_EQ(Send("POST", "/api/ticket-webhook-routes/", seed002, "tickets:update").status, 200);
  // The same shape naming our first ticket by its code.
  std::string ours = seed002;
  ours.replace(ours.find("\"ticket-123456\""), 15, StrCat("\"", code0, "\""));
  ASSERT_EQ(Send("POST", "/api/ticket-webhook-routes/", ours, "tickets:update").status, 200);
  // Seed 003, verbatim (ticket 789, code TKT-001: not ours), then with our tickets: the
  // second's code is right, the third's is not, and a failed entry records nothing.
  const std::string seed003 = R"({
  "eventType": "ticket.completed",
  "jobId": 123,
  "status": "completed",
  "timestamp": "2026-01-30T03:00:00Z",
  "data": {
    "tickets": [
      {
        "ticketId": 789,
        "ticketCode": "TKT-001",
        "qrCodeData": "base64_qr_data",
        "fileUrl": "https://cdn.eventplanner.com/tickets/789.pdf",
        "filePath": "/tickets/2026/01/30/789.pdf",
        "generatedAt": "2026-01-30T03:00:00Z",
        "success": true
      }
    ],
    "summary": {
      "total": 10,
      "successful": 8,
      "failed": 2,
      "processingTime": 1500
    }
  }
})";
  ASSERT_EQ(
      Send("POST", "/api/internal/ticket-generation-webhook", seed003, "tickets:update").status,
      200);
  const std::string mine =
      StrCat(R"({"eventType":"ticket.completed","jobId":124,"status":"completed",)",
             R"("timestamp":"2026-01-30T03:00:00Z","data":{"tickets":[)", R"({"ticketId":)", id1,
             R"(,"ticketCode":")", code1, R"(","fileUrl":"https://cdn.example/1.pdf",)",
             R"("filePath":"/t/1.pdf","success":true},)", R"({"ticketId":)", id2,
             R"(,"ticketCode":"TKT-WRONG","fileUrl":"https://cdn.example/2.pdf","success":true},)",
             R"({"ticketId":)", id2, R"(,"ticketCode":")", Str(t[2], "ticket_code"),
             R"(","fileUrl":"https://cdn.example/2b.pdf","success":false}]}})");
  ASSERT_EQ(Send("POST", "/api/internal/ticket-generation-webhook", mine, "tickets:update").status,
            200);
  stack_->engine->RunDue();  // the inbox's jobs
  json::value first = Data(Send("GET", StrCat("/api/tickets/", t[0].at("id").as_int64())));
  EXPECT_EQ(Str(first, "ticket_file_url"), "https://tickets.example.com/files/ticket-123456.pdf");
  // Generated again later: a new event (its time is part of its id), recorded again; the
  // same delivery again is a duplicate.
  ASSERT_EQ(
      Send("POST", "/api/ticket-webhook-routes/", ours, "tickets:update").Json().at("duplicate"),
      true);
  std::string again = ours;
  again.replace(again.find("2025-06-15T10:25:00Z"), 20, "2025-06-16T08:00:00Z");
  again.replace(again.find("files/ticket-123456.pdf"), 23, "files/second-edition.pdf");
  ASSERT_EQ(Send("POST", "/api/ticket-webhook-routes/", again, "tickets:update").status, 200);
  stack_->engine->RunDue();
  first = Data(Send("GET", StrCat("/api/tickets/", t[0].at("id").as_int64())));
  EXPECT_EQ(Str(first, "ticket_file_url"), "https://tickets.example.com/files/second-edition.pdf");
  json::value second = Data(Send("GET", StrCat("/api/tickets/", id1)));
  EXPECT_EQ(Str(second, "ticket_file_url"), "https://cdn.example/1.pdf");
  EXPECT_EQ(Str(second, "ticket_file_path"), "/t/1.pdf");
  EXPECT_EQ(Str(Data(Send("GET", StrCat("/api/tickets/", id2))), "ticket_file_url"), "");
  // Every report is kept as it came; the ticket names the one that recorded its file.
  json::value reports = Data(Send("GET", "/api/tickets/generation-jobs/outside"));
  ASSERT_EQ(reports.as_array().size(), 5u) << reports;
  const json::value& verbatim = reports.as_array()[0];
  EXPECT_EQ(Str(verbatim, "eventType"), "ticket.generated");
  EXPECT_EQ(Str(verbatim, "status"), "generated");
  EXPECT_TRUE(verbatim.at("recorded").as_array().empty());  // not our ticket
  EXPECT_EQ(verbatim.at("summary").at("processingTime").as_int64(), 1250);
  EXPECT_EQ(verbatim.at("body").at("metadata").at("queue_processing_time_ms").as_int64(), 200);
  EXPECT_TRUE(verbatim.at("notificationSent").as_bool());
  json::value job124 = Data(Send("GET", "/api/tickets/generation-jobs/outside?job_id=124"));
  ASSERT_EQ(job124.as_array().size(), 1u);
  const json::value& report = job124.as_array()[0];
  EXPECT_EQ(Str(report, "jobId"), "124");
  EXPECT_EQ(Str(report, "status"), "completed");
  EXPECT_EQ(report.at("summary").at("total").as_int64(), 3);  // no summary: the entries listed
  EXPECT_EQ(report.at("summary").at("successful").as_int64(), 2);
  EXPECT_EQ(report.at("summary").at("failed").as_int64(), 1);
  ASSERT_EQ(report.at("recorded").as_array().size(), 1u);
  EXPECT_EQ(report.at("recorded").as_array()[0].at("ticketId").as_int64(), id1);
  EXPECT_TRUE(report.at("heraldNotifies").as_bool());
  EXPECT_EQ(Str(second, "generation_job_id"), StrCat("outside:", report.at("id").as_int64()));
  json::value job123 = Data(Send("GET", "/api/tickets/generation-jobs/outside?job_id=123"));
  ASSERT_EQ(job123.as_array().size(), 1u);
  EXPECT_EQ(job123.as_array()[0].at("summary").at("total").as_int64(), 10);  // the seed's summary
  EXPECT_EQ(job123.as_array()[0].at("summary").at("processingTime").as_int64(), 1500);
  EXPECT_EQ(Str(Data(Send("GET", StrCat("/api/tickets/generation-jobs/outside/",
                                        report.at("id").as_int64()))),
                "jobId"),
            "124");
  EXPECT_EQ(Send("GET", "/api/tickets/generation-jobs/outside/999").status, 404);
  EXPECT_EQ(Send("GET", "/api/tickets/generation-jobs/outside", "", "operator:u1").status, 403);
  EXPECT_EQ(Send("GET", "/api/tickets/generation-jobs/outside", "", "tickets:read").status, 403);
  // The generator of job 124 told nobody: Herald tells the guest, with a link to the file.
  // Seed 002's reports said notification_sent: true, so nothing more.
  stack_->engine->RunDue();
  std::vector<notify::Notification> sent = stack_->notifier->History({}).value();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].template_id, "ticket_generated");
  EXPECT_EQ(sent[0].recipient, "jean.dupont@example.com");
  stack_->engine->RunDue();  // the notification's delivery
  std::vector<notify::OutboxEntry> outbox = notify::LogProvider::List(*stack_->store, 10).value();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_NE(outbox[0].body.find("https://cdn.example/1.pdf"), std::string::npos) << outbox[0].body;
  EXPECT_TRUE(outbox[0].attachments.empty());
  // Two of the guest's tickets in one report: one message with both links.
  const std::string two = StrCat(
      R"({"eventType":"ticket.completed","jobId":"job-125","status":"completed","data":{"tickets":[)",
      R"({"ticketId":)", t[0].at("id").as_int64(), R"(,"fileUrl":"https://cdn.example/a.pdf"},)",
      R"({"ticketId":)", id2, R"(,"fileUrl":"https://cdn.example/b.pdf"}]}})");
  ASSERT_EQ(Send("POST", "/api/internal/ticket-generation-webhook", two, "tickets:update").status,
            200);
  for (int i = 0; i < 3; ++i) stack_->engine->RunDue();  // inbox, notify job, delivery
  outbox = notify::LogProvider::List(*stack_->store, 10).value();
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_NE(outbox[0].body.find("https://cdn.example/a.pdf"), std::string::npos) << outbox[0].body;
  EXPECT_NE(outbox[0].body.find("https://cdn.example/b.pdf"), std::string::npos) << outbox[0].body;
  // The seed 003 event keeps its own type in the inbox.
  json::value events = Data(Send("GET", "/api/webhooks/inbox"));
  std::string seen = json::serialize(events);
  EXPECT_NE(seen.find("emitted ticket.completed"), std::string::npos) << seen;
}

TEST_F(TicketHttpTest, Seed002GenerationJobVerbatim) {
  std::vector<json::value> issued = EventWithTickets(1, 5);
  ASSERT_EQ(issued[4].at("id").as_int64(), 5);
  const std::string body = R"({
  "ticket_ids": [1, 2, 3, 4, 5],
  "options": {
    "qrFormat": "base64",
    "qrSize": "medium",
    "pdfFormat": true,
    "includeLogo": false,
    "priority": "high",
    "batch_processing": true
  }
})";
  ClientResponse r = Send("POST", "/api/tickets/generation-jobs", body);
  ASSERT_EQ(r.status, 202) << r.body;
  json::value job = r.Json().at("data");
  const int64_t id = job.at("id").as_int64();
  EXPECT_EQ(r.headers["location"], StrCat("/api/tickets/generation-jobs/", id));
  EXPECT_EQ(Str(job, "status"), "queued");
  EXPECT_EQ(job.at("total").as_int64(), 5);
  EXPECT_EQ(job.at("progress").as_int64(), 0);
  EXPECT_EQ(Str(job.at("options"), "priority"), "high");

  stack_->engine->RunDue();
  json::value done = Data(Send("GET", StrCat("/api/tickets/generation-jobs/", id)));
  EXPECT_EQ(Str(done, "status"), "completed");
  EXPECT_EQ(done.at("progress").as_int64(), 100);
  EXPECT_EQ(done.at("successful").as_int64(), 5);
  const json::array& tickets = done.at("tickets").as_array();
  ASSERT_EQ(tickets.size(), 5u);
  for (size_t i = 0; i < tickets.size(); ++i) {
    EXPECT_EQ(tickets[i].at("ticketId").as_int64(), static_cast<int64_t>(i + 1));
    EXPECT_TRUE(tickets[i].at("success").as_bool());
    EXPECT_EQ(Str(tickets[i], "qrCodeData"), Str(issued[i], "qr_code_data"));
    EXPECT_EQ(Str(tickets[i], "qrUrl"),
              StrCat("/api/tickets/", i + 1, "/qr?format=base64&size=medium"));
  }

  // The PDF's QR code, read by zbarimg, is the ticket's signed code, and the door admits it.
  docs::DocumentRecord doc = stack_->documents->Get(Str(tickets[2], "documentId")).value();
  const std::string qr = pdf_.DecodeQr(stack_->documents->ReadContent(doc).value());
  EXPECT_EQ(qr, Str(issued[2], "qr_code_data"));
  // It verifies offline, as a scanner with the event's public key checks it (the door below
  // admits a stored code by its row, so admission alone would not prove the signature).
  auto code = apps::tickets::ParseSignedCode(qr);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(code->claims.event_id, 1);
  EXPECT_EQ(code->claims.ticket_id, 3);
  bool verified = false;
  const json::value keys = Data(Send("GET", "/api/events/1/keys"));
  for (const json::value& k : keys.as_array()) {
    if (k.at("key_id").as_int64() != code->claims.key_id) continue;
    const std::string raw = auth::Base64Decode(Str(k, "public_key")).value();
    apps::tickets::PublicKey key{};
    ASSERT_EQ(raw.size(), key.size());
    std::copy(raw.begin(), raw.end(), key.begin());
    verified = apps::tickets::VerifySignedCode(*code, key);
    apps::tickets::SignedCode forged = *code;
    forged.signature[0] ^= 1;
    EXPECT_FALSE(apps::tickets::VerifySignedCode(forged, key));
  }
  EXPECT_TRUE(verified);
  json::value scan =
      Send("POST", "/api/scans/validate", StrCat(R"({"ticket_code":")", qr, R"(","event_id":1})"))
          .Json();
  EXPECT_TRUE(scan.at("valid").as_bool()) << json::serialize(scan);
  EXPECT_EQ(scan.at("ticketId").as_int64(), 3);

  // The QR code alone, as PNG (zbarimg reads it back), SVG and base64 text.
  ClientResponse png = Send("GET", "/api/tickets/2/qr?format=png&size=small");
  ASSERT_EQ(png.status, 200) << png.body;
  EXPECT_EQ(png.headers["content-type"], "image/png");
  const std::string png_path = StrCat(stack_->dir.path().string(), "/qr2.png");
  docs::testing::WriteBytes(png_path, png.body);
  EXPECT_EQ(docs::testing::Zbar(png_path).out, Str(issued[1], "qr_code_data"));
  ClientResponse svg = Send("GET", "/api/tickets/2/qr?format=svg");
  EXPECT_EQ(svg.headers["content-type"], "image/svg+xml");
  EXPECT_TRUE(svg.body.starts_with("<?xml") || svg.body.starts_with("<svg")) << svg.body;
  ClientResponse b64 = Send("GET", "/api/tickets/2/qr");
  ClientResponse b64_default = Send("GET", "/api/tickets/2/qr?format=base64&size=medium");
  EXPECT_EQ(b64_default.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(auth::Base64Decode(b64_default.body).value(), b64.body);  // default: PNG, medium

  // Jean (all five tickets) gets one email with the five PDFs.
  std::vector<notify::Notification> sent = stack_->notifier->History({}).value();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].template_id, "ticket_generated");
  EXPECT_EQ(sent[0].recipient, "jean.dupont@example.com");

  // Client mistakes: a 4xx with the error shape, and no job.
  struct Case {
    std::string method, target, body;
    int status;
  } cases[] = {
      {"POST", "/api/tickets/generation-jobs", "{", 400},
      {"POST", "/api/tickets/generation-jobs", R"({})", 400},
      {"POST", "/api/tickets/generation-jobs", R"({"ticket_ids":"1"})", 400},
      {"POST", "/api/tickets/generation-jobs", R"({"ticket_ids":[1,-2]})", 400},
      {"POST", "/api/tickets/generation-jobs", R"({"ticket_ids":[1],"surprise":1})", 400},
      {"POST", "/api/tickets/generation-jobs", R"({"ticket_ids":[1],"options":[]})", 400},
      {"POST", "/api/tickets/generation-jobs", R"({"ticket_ids":[1],"options":{"qrFormat":"gif"}})",
       400},
      {"POST", "/api/tickets/generation-jobs", R"({"ticket_ids":[1],"options":{"colour":"red"}})",
       400},
      {"POST", "/api/tickets/generation-jobs", R"({"ticket_ids":[1,999]})", 404},
      {"GET", "/api/tickets/generation-jobs/999", "", 404},
      {"GET", "/api/tickets/generation-jobs/abc", "", 400},
      {"GET", "/api/tickets/1/qr?format=gif", "", 400},
      {"GET", "/api/tickets/1/qr?size=huge", "", 400},
      {"GET", "/api/tickets/999/qr", "", 404},
  };
  for (const Case& c : cases) {
    ClientResponse e = Send(c.method, c.target, c.body);
    EXPECT_EQ(e.status, c.status) << c.method << " " << c.target << " " << c.body << " " << e.body;
    json::value v = e.Json();
    ASSERT_TRUE(v.is_object() && v.as_object().contains("error")) << e.body;
  }
  EXPECT_EQ(Send("GET", StrCat("/api/tickets/generation-jobs/", id + 1)).status, 404);
}

}  // namespace
}  // namespace herald::http
