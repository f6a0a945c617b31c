#include "apps/maintenance/maintenance.h"

#include <map>
#include <string>
#include <vector>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "engine/scheduler.h"
#include "gtest/gtest.h"
#include "net/testing/fake_http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/dispatcher.h"

namespace herald::apps::maintenance {
namespace {

namespace json = boost::json;

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

bool Mentions(const Status& s, std::string_view text) {
  return ToStd(s.message()).find(text) != std::string_view::npos;
}

class MaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(At("2026-01-10T12:00:00Z"));
    store::SqliteOptions o;
    o.path = dir_.File("maintenance.db");
    store_ = std::move(store::SqliteStore::Open(o)).value();
    ASSERT_TRUE(engine::Engine::Migrate(*store_).ok());
    ASSERT_TRUE(engine::Scheduler::Migrate(*store_).ok());
    ASSERT_TRUE(webhooks::Dispatcher::Migrate(*store_).ok());
    ASSERT_TRUE(Maintenance::Migrate(*store_).ok());
    engine_ = std::move(engine::Engine::Create(*store_, clock_, {})).value();
    webhooks::DispatcherOptions options;
    options.allow_private_addresses = true;  // the receiver is on 127.0.0.1
    auto d = webhooks::Dispatcher::Create(*store_, *engine_, clock_, options);
    ASSERT_TRUE(d.ok()) << d.status();
    dispatcher_ = std::move(*d);
    auto m = Maintenance::Create(*store_, *engine_, *dispatcher_, clock_);
    ASSERT_TRUE(m.ok()) << m.status();
    maintenance_ = std::move(*m);
    ASSERT_TRUE(engine_->Start(/*threads=*/false).ok());
  }

  void TearDown() override {
    if (engine_) engine_->Stop(absl::ZeroDuration());
  }

  Machine NewMachine(std::string name = "Four de trempe") {
    Machine m;
    m.name = std::move(name);
    m.machine_type = "Four";
    m.location = "Atelier B";
    m.serial_number = "TMP-2019-44";
    auto created = maintenance_->CreateMachine(m);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : Machine{};
  }

  User NewUser(std::string name, std::string email, std::string phone = "+1 514 555 0100") {
    User u;
    u.name = std::move(name);
    u.email = std::move(email);
    u.phone = std::move(phone);
    auto created = maintenance_->CreateUser(u);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : User{};
  }

  Ticket NewTicket(const std::string& title, const std::string& machine_id,
                   TicketStatus status = TicketStatus::kReceived, std::string assigned_to = "",
                   std::optional<absl::Time> scheduled = std::nullopt) {
    Ticket t;
    t.title = title;
    t.description = StrCat("Description de ", title);
    t.machine_id = machine_id;
    t.status = status;
    t.priority = Priority::kHigh;
    t.assigned_to = std::move(assigned_to);
    t.scheduled_date = scheduled;
    auto created = maintenance_->CreateTicket(t);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : Ticket{};
  }

  size_t CountTickets() { return maintenance_->ListTickets({})->size(); }

  // Runs due jobs, moving the clock by the endpoint's 200 ms spacing between rounds, until
  // the receiver has `want` requests (or a bounded number of rounds passed).
  void DeliverUntil(const net::testing::FakeHttpServer& receiver, size_t want) {
    for (int round = 0; round < 100 && receiver.request_count() < want; ++round) {
      engine_->RunDue();
      if (receiver.request_count() < want) clock_.Advance(absl::Milliseconds(200));
    }
  }

  testing::TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<webhooks::Dispatcher> dispatcher_;
  std::unique_ptr<Maintenance> maintenance_;
};

TEST(TicketStatus, NamesRoundTrip) {
  for (TicketStatus s :
       {TicketStatus::kReceived, TicketStatus::kDiagnostic, TicketStatus::kInProgress,
        TicketStatus::kWaitingParts, TicketStatus::kCompleted, TicketStatus::kArchived}) {
    EXPECT_EQ(*ParseTicketStatus(TicketStatusName(s)), s);
  }
  for (Priority p : {Priority::kLow, Priority::kMedium, Priority::kHigh, Priority::kCritical}) {
    EXPECT_EQ(*ParsePriority(PriorityName(p)), p);
  }
  EXPECT_EQ(TicketStatusName(TicketStatus::kWaitingParts), "waiting_parts");
  EXPECT_EQ(ParseTicketStatus("done").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePriority("urgent").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MaintenanceTest, MachinesCreateReadUpdateListAndDelete) {
  Machine m = NewMachine();
  EXPECT_TRUE(m.id.starts_with("mch_"));
  EXPECT_EQ(m.created_at, clock_.Now());

  auto read = maintenance_->GetMachine(m.id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->name, "Four de trempe");
  EXPECT_EQ(read->machine_type, "Four");
  EXPECT_EQ(read->location, "Atelier B");
  EXPECT_EQ(read->serial_number, "TMP-2019-44");

  Machine changed = *read;
  changed.location = "Atelier C";
  clock_.Advance(absl::Minutes(1));
  auto updated = maintenance_->UpdateMachine(changed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  auto after = maintenance_->GetMachine(m.id);
  EXPECT_EQ(after->location, "Atelier C");
  EXPECT_EQ(after->created_at, m.created_at);
  EXPECT_GT(after->updated_at, m.updated_at);

  Machine second = NewMachine("Table de découpe");
  PageFilter page;
  page.limit = 1;
  auto first_page = maintenance_->ListMachines(page);
  ASSERT_EQ(first_page->size(), 1u);
  EXPECT_EQ((*first_page)[0].id, m.id);
  page.after_id = m.id;
  auto second_page = maintenance_->ListMachines(page);
  ASSERT_EQ(second_page->size(), 1u);
  EXPECT_EQ((*second_page)[0].id, second.id);

  ASSERT_TRUE(maintenance_->DeleteMachine(m.id).ok());
  EXPECT_EQ(maintenance_->GetMachine(m.id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(maintenance_->DeleteMachine(m.id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(maintenance_->ListMachines({})->size(), 1u);
}

TEST_F(MaintenanceTest, RefusesBadMachinesAndChangesNothing) {
  auto bad = [&](auto mutate, std::string_view field) {
    Machine m;
    m.name = "Presse";
    mutate(m);
    Status s = maintenance_->CreateMachine(m).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(Mentions(s, field)) << s;
  };
  bad([](Machine& m) { m.name = ""; }, "name");
  bad([](Machine& m) { m.name = "   "; }, "name");
  bad([](Machine& m) { m.name = std::string(201, 'x'); }, "name");
  bad([](Machine& m) { m.machine_type = std::string(101, 'x'); }, "machine_type");
  bad([](Machine& m) { m.location = std::string(201, 'x'); }, "location");
  bad([](Machine& m) { m.serial_number = std::string(101, 'x'); }, "serial_number");
  bad([](Machine& m) { m.id = "has space"; }, "id");
  bad([](Machine& m) { m.name = "\xff\xfe"; }, "name");
  EXPECT_TRUE(maintenance_->ListMachines({})->empty());

  Machine m = NewMachine();
  Machine again = m;
  EXPECT_EQ(maintenance_->CreateMachine(again).status().code(), absl::StatusCode::kAlreadyExists);
  Machine ghost = m;
  ghost.id = "mch_ghost";
  EXPECT_EQ(maintenance_->UpdateMachine(ghost).status().code(), absl::StatusCode::kNotFound);
  Machine blank = m;
  blank.name = "";
  EXPECT_EQ(maintenance_->UpdateMachine(blank).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(maintenance_->GetMachine(m.id)->name, m.name);
  EXPECT_EQ(maintenance_->ListMachines({})->size(), 1u);
}

TEST_F(MaintenanceTest, UsersCreateValidateAndKeepEmailsUnique) {
  User u = NewUser("Marc Tremblay", "Marc.Tremblay@IGP.ca");
  EXPECT_TRUE(u.id.starts_with("usr_"));
  EXPECT_EQ(u.email, "marc.tremblay@igp.ca");
  EXPECT_EQ(u.role, "technician");

  auto read = maintenance_->GetUser(u.id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->name, "Marc Tremblay");
  EXPECT_EQ(read->phone, "+1 514 555 0100");

  User other;
  other.name = "Autre";
  other.email = "MARC.tremblay@igp.ca";
  EXPECT_EQ(maintenance_->CreateUser(other).status().code(), absl::StatusCode::kAlreadyExists);

  auto bad = [&](auto mutate, std::string_view field) {
    User x;
    x.name = "Julie";
    mutate(x);
    Status s = maintenance_->CreateUser(x).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(Mentions(s, field)) << s;
  };
  bad([](User& x) { x.name = ""; }, "name");
  bad([](User& x) { x.email = "not-an-address"; }, "email");
  bad([](User& x) { x.email = "a b@example.com"; }, "email");
  bad([](User& x) { x.phone = "call me"; }, "phone");
  bad([](User& x) { x.role = "Chef!"; }, "role");
  EXPECT_EQ(maintenance_->ListUsers({})->size(), 1u);

  User supervisor = *read;
  supervisor.role = "supervisor";
  supervisor.email = "marc@igp.ca";
  ASSERT_TRUE(maintenance_->UpdateUser(supervisor).ok());
  EXPECT_EQ(maintenance_->GetUser(u.id)->role, "supervisor");
  // The old address is free again.
  other.email = "marc.tremblay@igp.ca";
  EXPECT_TRUE(maintenance_->CreateUser(other).ok());
  // And an update may not take someone else's.
  supervisor.email = "MARC.TREMBLAY@igp.ca";
  EXPECT_EQ(maintenance_->UpdateUser(supervisor).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(maintenance_->GetUser(u.id)->email, "marc@igp.ca");

  ASSERT_TRUE(maintenance_->DeleteUser(u.id).ok());
  EXPECT_EQ(maintenance_->GetUser(u.id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MaintenanceTest, TicketsAreNumberedValidatedAndFiltered) {
  Machine four = NewMachine();
  Machine table = NewMachine("Table de découpe");
  User marc = NewUser("Marc", "marc@igp.ca");

  // Bad tickets change nothing, not even the number sequence.
  auto bad = [&](auto mutate, absl::StatusCode code, std::string_view field) {
    Ticket t;
    t.title = "Fuite d'huile";
    t.machine_id = four.id;
    mutate(t);
    Status s = maintenance_->CreateTicket(t).status();
    EXPECT_EQ(s.code(), code) << field << ": " << s;
    EXPECT_TRUE(Mentions(s, field)) << s;
  };
  bad([](Ticket& t) { t.title = ""; }, absl::StatusCode::kInvalidArgument, "title");
  bad([](Ticket& t) { t.machine_id = ""; }, absl::StatusCode::kInvalidArgument, "machine_id");
  bad([](Ticket& t) { t.machine_id = "mch_nope"; }, absl::StatusCode::kInvalidArgument,
      "machine_id");
  bad([](Ticket& t) { t.assigned_to = "usr_nope"; }, absl::StatusCode::kInvalidArgument,
      "assigned_to");
  bad([](Ticket& t) { t.ticket_number = "TKT 1"; }, absl::StatusCode::kInvalidArgument,
      "ticket_number");
  bad([](Ticket& t) { t.description = std::string(10'001, 'x'); },
      absl::StatusCode::kInvalidArgument, "description");
  EXPECT_EQ(CountTickets(), 0u);

  Ticket a = NewTicket("Fuite d'huile", four.id, TicketStatus::kReceived, marc.id,
                       clock_.Now() + absl::Hours(2));
  EXPECT_TRUE(a.id.starts_with("tkt_"));
  EXPECT_EQ(a.ticket_number, "TKT-000001");
  Ticket b = NewTicket("Courroie", table.id, TicketStatus::kDiagnostic);
  EXPECT_EQ(b.ticket_number, "TKT-000002");

  // A caller's number is kept, must be unique, and generated numbers skip it.
  Ticket given;
  given.title = "Importé";
  given.machine_id = four.id;
  given.ticket_number = "TKT-000003";
  ASSERT_TRUE(maintenance_->CreateTicket(given).ok());
  bad([](Ticket& t) { t.ticket_number = "TKT-000003"; }, absl::StatusCode::kAlreadyExists,
      "ticket_number");
  Ticket c = NewTicket("Capteur", four.id, TicketStatus::kCompleted);
  EXPECT_EQ(c.ticket_number, "TKT-000004");

  auto read = maintenance_->GetTicket(a.id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->title, "Fuite d'huile");
  EXPECT_EQ(read->status, TicketStatus::kReceived);
  EXPECT_EQ(read->priority, Priority::kHigh);
  EXPECT_EQ(read->assigned_to, marc.id);
  EXPECT_EQ(read->scheduled_date, clock_.Now() + absl::Hours(2));
  EXPECT_FALSE(maintenance_->GetTicket(b.id)->scheduled_date.has_value());
  EXPECT_TRUE(maintenance_->GetTicket(b.id)->assigned_to.empty());

  // Update: the number stays when not given; references are checked.
  Ticket moved = *read;
  moved.ticket_number = "";
  moved.status = TicketStatus::kInProgress;
  moved.assigned_to = "";
  moved.scheduled_date.reset();
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(maintenance_->UpdateTicket(moved).ok());
  auto after = maintenance_->GetTicket(a.id);
  EXPECT_EQ(after->ticket_number, "TKT-000001");
  EXPECT_EQ(after->status, TicketStatus::kInProgress);
  EXPECT_TRUE(after->assigned_to.empty());
  EXPECT_FALSE(after->scheduled_date.has_value());
  EXPECT_EQ(after->created_at, a.created_at);
  moved.assigned_to = "usr_nope";
  EXPECT_EQ(maintenance_->UpdateTicket(moved).status().code(), absl::StatusCode::kInvalidArgument);
  moved.assigned_to = marc.id;
  moved.ticket_number = "TKT-000002";
  EXPECT_EQ(maintenance_->UpdateTicket(moved).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(maintenance_->GetTicket(a.id)->assigned_to.empty());
  moved.ticket_number = "";
  ASSERT_TRUE(maintenance_->UpdateTicket(moved).ok());
  Ticket ghost = moved;
  ghost.id = "tkt_ghost";
  EXPECT_EQ(maintenance_->UpdateTicket(ghost).status().code(), absl::StatusCode::kNotFound);

  // Filters and cursor.
  TicketFilter f;
  f.machine_id = four.id;
  EXPECT_EQ(maintenance_->ListTickets(f)->size(), 3u);
  f.status = TicketStatus::kCompleted;
  auto completed = maintenance_->ListTickets(f);
  ASSERT_EQ(completed->size(), 1u);
  EXPECT_EQ((*completed)[0].id, c.id);
  TicketFilter mine;
  mine.assigned_to = marc.id;
  auto assigned = maintenance_->ListTickets(mine);
  ASSERT_EQ(assigned->size(), 1u);
  EXPECT_EQ((*assigned)[0].id, a.id);
  TicketFilter page;
  page.limit = 3;
  auto first = maintenance_->ListTickets(page);
  ASSERT_EQ(first->size(), 3u);
  page.after_id = first->back().id;
  EXPECT_EQ(maintenance_->ListTickets(page)->size(), 1u);

  ASSERT_TRUE(maintenance_->DeleteTicket(b.id).ok());
  EXPECT_EQ(maintenance_->DeleteTicket(b.id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CountTickets(), 3u);
}

TEST_F(MaintenanceTest, MachinesAndUsersInUseCannotBeDeleted) {
  Machine m = NewMachine();
  User u = NewUser("Marc", "marc@igp.ca");
  Ticket t = NewTicket("Fuite", m.id, TicketStatus::kReceived, u.id);

  EXPECT_EQ(maintenance_->DeleteMachine(m.id).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(maintenance_->DeleteUser(u.id).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(maintenance_->GetMachine(m.id).ok());
  EXPECT_TRUE(maintenance_->GetUser(u.id).ok());

  ASSERT_TRUE(maintenance_->DeleteTicket(t.id).ok());
  EXPECT_TRUE(maintenance_->DeleteUser(u.id).ok());
  EXPECT_TRUE(maintenance_->DeleteMachine(m.id).ok());
}

// Seed 004 end to end: the overdue rule, one webhook per overdue ticket with its details, at
// most once per 24 h, and the webhook_notifications records.
TEST_F(MaintenanceTest, OverdueTicketsAreSentOncePerDayToSubscribedEndpoints) {
  net::testing::FakeHttpServer receiver;
  webhooks::Endpoint endpoint;
  endpoint.url = receiver.url() + "/workflow/sendwebhookdata/igp";
  endpoint.event_types = {"maintenance.*"};
  auto ep = dispatcher_->CreateEndpoint(endpoint);
  ASSERT_TRUE(ep.ok()) << ep.status();

  const absl::Time now = clock_.Now();
  Machine four = NewMachine();
  User marc = NewUser("Marc Tremblay", "marc@igp.ca", "+1 514 555 0100");
  User julie = NewUser("Julie Roy", "julie@igp.ca", "+1 514 555 0199");
  Ticket late =
      NewTicket("Fuite d'huile", four.id, TicketStatus::kReceived, marc.id, now - absl::Hours(2));
  Ticket diag = NewTicket("Bruit anormal", four.id, TicketStatus::kDiagnostic, julie.id,
                          now - absl::Minutes(30));
  // Not overdue: in the future, already being worked on, done, unassigned, unscheduled.
  NewTicket("Futur", four.id, TicketStatus::kReceived, marc.id, now + absl::Hours(48));
  NewTicket("En cours", four.id, TicketStatus::kInProgress, marc.id, now - absl::Hours(5));
  NewTicket("Pièces", four.id, TicketStatus::kWaitingParts, marc.id, now - absl::Hours(5));
  NewTicket("Fini", four.id, TicketStatus::kCompleted, marc.id, now - absl::Hours(5));
  NewTicket("Personne", four.id, TicketStatus::kReceived, "", now - absl::Hours(5));
  NewTicket("Sans date", four.id, TicketStatus::kReceived, marc.id);

  auto report = maintenance_->CheckOverdue();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->checked_at, now);
  EXPECT_EQ(report->overdue, 2);
  EXPECT_EQ(report->notified, 2);
  EXPECT_EQ(report->skipped, 0);
  ASSERT_EQ(report->tickets.size(), 2u);
  EXPECT_EQ(report->tickets[0].ticket_id, late.id);  // the longest overdue first
  EXPECT_EQ(report->tickets[0].ticket_number, late.ticket_number);
  EXPECT_EQ(report->tickets[1].ticket_id, diag.id);
  for (const OverdueTicket& t : report->tickets) {
    EXPECT_EQ(t.action, "notified");
    EXPECT_FALSE(t.message_id.empty());
    EXPECT_EQ(t.deliveries, 1);
  }

  auto rows = maintenance_->ListNotifications({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  // Newest first.
  EXPECT_EQ((*rows)[0].ticket_id, diag.id);
  EXPECT_EQ((*rows)[0].message_id, report->tickets[1].message_id);
  EXPECT_EQ((*rows)[1].ticket_id, late.id);
  EXPECT_EQ((*rows)[1].message_id, report->tickets[0].message_id);
  for (const Notification& n : *rows) {
    EXPECT_EQ(n.notification_type, "overdue");
    EXPECT_EQ(n.sent_at, now);
    json::value details = json::parse(n.details_json);
    EXPECT_EQ(details.at("event_type").as_string(), "maintenance.ticket_overdue");
    EXPECT_EQ(details.at("delivery_ids").as_array().size(), 1u);
  }
  NotificationFilter only_late;
  only_late.ticket_id = late.id;
  EXPECT_EQ(maintenance_->ListNotifications(only_late)->size(), 1u);

  // Nothing is sent before the engine runs the deliveries; then one POST per overdue ticket.
  EXPECT_EQ(receiver.request_count(), 0u);
  engine_->RunDue();
  // The endpoint's 200 ms spacing (seed 004) holds the second webhook back until the clock
  // moves.
  EXPECT_EQ(receiver.request_count(), 1u);
  DeliverUntil(receiver, 2);
  std::vector<net::testing::FakeRequest> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  std::map<std::string, json::object> by_ticket;
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.Path(), "/workflow/sendwebhookdata/igp");
    EXPECT_FALSE(r.Header("webhook-id").empty());
    EXPECT_FALSE(r.Header("webhook-signature").empty());
    json::value body = json::parse(r.body);
    EXPECT_EQ(body.at("type").as_string(), "maintenance.ticket_overdue");
    const json::object& data = body.at("data").as_object();
    by_ticket[std::string(data.at("ticket").at("id").as_string())] = data;
  }
  ASSERT_EQ(by_ticket.count(late.id), 1u);
  ASSERT_EQ(by_ticket.count(diag.id), 1u);
  const json::object& sent = by_ticket[late.id];
  const json::object& ticket = sent.at("ticket").as_object();
  EXPECT_EQ(ticket.at("ticket_number").as_string(), late.ticket_number);
  EXPECT_EQ(ticket.at("title").as_string(), "Fuite d'huile");
  EXPECT_EQ(ticket.at("description").as_string(), "Description de Fuite d'huile");
  EXPECT_EQ(ticket.at("status").as_string(), "received");
  EXPECT_EQ(ticket.at("priority").as_string(), "high");
  EXPECT_EQ(ticket.at("scheduled_date").as_string(), "2026-01-10T10:00:00.000Z");
  EXPECT_EQ(ticket.at("overdue_minutes").as_int64(), 120);
  EXPECT_EQ(ticket.at("overdue_hours").as_int64(), 2);
  const json::object& machine = sent.at("machine").as_object();
  EXPECT_EQ(machine.at("id").as_string(), four.id);
  EXPECT_EQ(machine.at("name").as_string(), "Four de trempe");
  EXPECT_EQ(machine.at("machine_type").as_string(), "Four");
  EXPECT_EQ(machine.at("location").as_string(), "Atelier B");
  const json::object& assignee = sent.at("assignee").as_object();
  EXPECT_EQ(assignee.at("id").as_string(), marc.id);
  EXPECT_EQ(assignee.at("name").as_string(), "Marc Tremblay");
  EXPECT_EQ(assignee.at("email").as_string(), "marc@igp.ca");
  EXPECT_EQ(assignee.at("phone").as_string(), "+1 514 555 0100");
  EXPECT_EQ(by_ticket[diag.id].at("assignee").at("name").as_string(), "Julie Roy");
  EXPECT_EQ(by_ticket[diag.id].at("ticket").at("status").as_string(), "diagnostic");

  // Within 24 h: still overdue, already notified: nothing is published or recorded.
  clock_.Advance(absl::Hours(1));
  auto again = maintenance_->CheckOverdue();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->overdue, 2);
  EXPECT_EQ(again->notified, 0);
  EXPECT_EQ(again->skipped, 2);
  ASSERT_EQ(again->tickets.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again->tickets[i].action, "skipped");
    EXPECT_EQ(again->tickets[i].message_id, report->tickets[i].message_id);
    EXPECT_EQ(again->tickets[i].deliveries, 0);
  }
  EXPECT_EQ(maintenance_->ListNotifications({})->size(), 2u);
  for (int i = 0; i < 5; ++i) {
    engine_->RunDue();
    clock_.Advance(absl::Milliseconds(200));
  }
  EXPECT_EQ(receiver.request_count(), 2u);

  // A day after the first webhooks, they are sent again.
  clock_.Set(now + absl::Hours(24) + absl::Seconds(1));
  auto next_day = maintenance_->CheckOverdue();
  ASSERT_TRUE(next_day.ok()) << next_day.status();
  EXPECT_EQ(next_day->notified, 2);
  EXPECT_EQ(next_day->skipped, 0);
  EXPECT_NE(next_day->tickets[0].message_id, report->tickets[0].message_id);
  EXPECT_EQ(maintenance_->ListNotifications({})->size(), 4u);
  EXPECT_EQ(maintenance_->ListNotifications(only_late)->size(), 2u);
  DeliverUntil(receiver, 4);
  EXPECT_EQ(receiver.request_count(), 4u);
  json::value later = json::parse(receiver.requests().back().body);
  EXPECT_GE(later.at("data").at("ticket").at("overdue_hours").as_int64(), 24);

  auto deliveries = dispatcher_->ListDeliveries({});
  ASSERT_TRUE(deliveries.ok());
  EXPECT_EQ(deliveries->size(), 4u);
  for (const webhooks::Delivery& d : *deliveries) {
    EXPECT_EQ(d.status, webhooks::DeliveryStatus::kSucceeded) << d.id << " " << d.last_error;
  }
}

TEST_F(MaintenanceTest, TicketsThatStopBeingOverdueAreNotSent) {
  Machine four = NewMachine();
  User marc = NewUser("Marc", "marc@igp.ca");
  Ticket t = NewTicket("Fuite", four.id, TicketStatus::kReceived, marc.id,
                       clock_.Now() + absl::Minutes(10));
  EXPECT_EQ(maintenance_->CheckOverdue()->overdue, 0);
  clock_.Advance(absl::Minutes(11));
  EXPECT_EQ(maintenance_->CheckOverdue()->notified, 1);  // no endpoint: published, 0 deliveries
  t.status = TicketStatus::kInProgress;
  t.ticket_number = "";
  ASSERT_TRUE(maintenance_->UpdateTicket(t).ok());
  clock_.Advance(absl::Hours(25));
  auto report = maintenance_->CheckOverdue();
  EXPECT_EQ(report->overdue, 0);
  EXPECT_TRUE(report->tickets.empty());
}

TEST_F(MaintenanceTest, ReportJsonHasTheSeedFields) {
  OverdueReport r;
  r.checked_at = At("2026-01-10T12:00:00Z");
  r.overdue = 2;
  r.notified = 1;
  r.skipped = 1;
  r.tickets.push_back({"tkt_1", "TKT-000001", "notified", "msg_1", 1});
  r.tickets.push_back({"tkt_2", "TKT-000002", "skipped", "msg_0", 0});
  json::object o = OverdueReportJson(r);
  EXPECT_EQ(o.at("checked_at").as_string(), "2026-01-10T12:00:00.000Z");
  EXPECT_EQ(o.at("overdue").as_int64(), 2);
  EXPECT_EQ(o.at("notified").as_int64(), 1);
  EXPECT_EQ(o.at("skipped").as_int64(), 1);
  const json::array& tickets = o.at("tickets").as_array();
  ASSERT_EQ(tickets.size(), 2u);
  EXPECT_EQ(tickets[1].at("ticket_number").as_string(), "TKT-000002");
  EXPECT_EQ(tickets[1].at("action").as_string(), "skipped");
  EXPECT_EQ(tickets[0].at("message_id").as_string(), "msg_1");
  EXPECT_EQ(tickets[0].at("deliveries").as_int64(), 1);
}

TEST_F(MaintenanceTest, RefusesANonPositiveDedupeWindow) {
  MaintenanceOptions o;
  o.dedupe_window = absl::ZeroDuration();
  EXPECT_EQ(Maintenance::Create(*store_, *engine_, *dispatcher_, clock_, o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MaintenanceTest, TheScheduleIsInstalledOnceAndRunsTheCheck) {
  core::Config::Scheduler config;
  auto s = engine::Scheduler::Create(*store_, *engine_, clock_, config);
  ASSERT_TRUE(s.ok()) << s.status();
  std::unique_ptr<engine::Scheduler> scheduler = std::move(*s);
  ASSERT_TRUE(scheduler->Start(/*thread=*/false).ok());

  ASSERT_TRUE(EnsureSchedule(*scheduler).ok());
  auto first = scheduler->Get(kOverdueScheduleName);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->spec.cron, "*/5 * * * *");
  EXPECT_EQ(first->spec.job.type, kCheckOverdueJobType);
  EXPECT_EQ(first->next_fire_at, At("2026-01-10T12:05:00Z"));

  // Idempotent: a second call (a restart) changes nothing, a paused schedule stays paused.
  ASSERT_TRUE(scheduler->SetEnabled(kOverdueScheduleName, false).ok());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(EnsureSchedule(*scheduler).ok());
  auto list = scheduler->List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, first->id);
  EXPECT_FALSE((*list)[0].spec.enabled);
  ASSERT_TRUE(scheduler->SetEnabled(kOverdueScheduleName, true).ok());

  // Another expression updates it in place.
  ASSERT_TRUE(EnsureSchedule(*scheduler, "*/10 * * * *").ok());
  auto updated = scheduler->Get(kOverdueScheduleName);
  EXPECT_EQ(updated->spec.cron, "*/10 * * * *");
  EXPECT_EQ(updated->id, first->id);
  EXPECT_EQ(scheduler->List()->size(), 1u);
  EXPECT_EQ(EnsureSchedule(*scheduler, "not cron").code(), absl::StatusCode::kInvalidArgument);

  // The slot fires the check; its report is the job's result.
  Machine four = NewMachine();
  User marc = NewUser("Marc", "marc@igp.ca");
  NewTicket("Fuite", four.id, TicketStatus::kReceived, marc.id, clock_.Now() - absl::Hours(1));
  clock_.Set(At("2026-01-10T12:10:00.001Z"));
  EXPECT_EQ(scheduler->Tick(), 1);
  EXPECT_GE(engine_->RunDue(), 1);
  ASSERT_TRUE(engine_->Flush().ok());
  engine::table::ListFilter filter;
  filter.type = std::string(kCheckOverdueJobType);
  auto jobs = engine_->List(filter);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, engine::JobState::kSucceeded) << (*jobs)[0].last_error;
  EXPECT_EQ((*jobs)[0].queue, kJobQueue);
  json::value result = json::parse((*jobs)[0].result);
  EXPECT_EQ(result.at("overdue").as_int64(), 1);
  EXPECT_EQ(result.at("notified").as_int64(), 1);
  EXPECT_EQ(maintenance_->ListNotifications({})->size(), 1u);
  scheduler->Stop();
}

}  // namespace
}  // namespace herald::apps::maintenance
