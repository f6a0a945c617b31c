#include "apps/tickets/scanner.h"

#include <atomic>
#include <thread>

#include "absl/strings/ascii.h"
#include "apps/tickets/ticket_code.h"
#include "apps/tickets/ticketing.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::apps::tickets {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class ScannerTest : public ::testing::Test {
 protected:
  ScannerTest() {
    store::SqliteOptions so;
    so.path = dir_.File("herald.db");
    store_ = std::move(store::SqliteStore::Open(so)).value();
    EXPECT_TRUE(Ticketing::Migrate(*store_).ok());
    TicketingOptions options;
    options.master_key.fill(7);
    ticketing_ = std::move(Ticketing::Create(*store_, clock_, options)).value();
    scanner_ = std::make_unique<Scanner>(*store_, clock_);
  }

  // An active event starting in 2 hours (so its doors are open now).
  Event NewEvent(CodeMode mode = CodeMode::kSigned, bool reentry = false,
                 std::optional<int64_t> capacity = std::nullopt) {
    Event e;
    e.title = "Tech Conference 2026";
    e.event_date = clock_.Now() + absl::Hours(2);
    e.location = "Paris Expo";
    e.code_mode = mode;
    e.reentry = reentry;
    e.max_attendees = capacity;
    return ticketing_->CreateEvent(e).value();
  }

  std::vector<Ticket> Issue(const Event& e, int n, TicketStatus status = TicketStatus::kIssued) {
    Guest g;
    g.event_id = e.id;
    g.first_name = "Jean";
    g.last_name = "Dupont";
    g.email = StrCat("jean", next_guest_++, "@example.com");
    Guest guest = ticketing_->CreateGuest(g).value();
    TicketType type;
    type.event_id = e.id;
    type.name = StrCat("VIP", next_guest_);
    type.price = 9999;
    TicketType t = ticketing_->CreateTicketType(type).value();
    std::vector<IssueRequest> reqs(n);
    for (IssueRequest& r : reqs) {
      r.guest_id = guest.id;
      r.ticket_type_id = t.id;
      r.seat = "A15";
      r.status = status;
    }
    return ticketing_->IssueTickets(e.id, reqs).value();
  }

  ScanResult Scan(std::string code, int64_t event_id, std::string scanner = "scanner-1",
                  std::string gate = "A", std::string op = "operator-123") {
    ScanRequest r;
    r.code = std::move(code);
    r.event_id = event_id;
    r.scanner_id = std::move(scanner);
    r.gate = std::move(gate);
    r.operator_id = std::move(op);
    return scanner_->Validate(r).value();
  }

  herald::testing::TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Ticketing> ticketing_;
  std::unique_ptr<Scanner> scanner_;
  int next_guest_ = 0;
};

TEST_F(ScannerTest, SignedCodeVerifiesUnderTheEventKey) {
  Event e = NewEvent();
  Ticket t = Issue(e, 1)[0];
  EXPECT_TRUE(IsTicketNumber(t.ticket_code)) << t.ticket_code;
  EXPECT_EQ(ClassifyCode(t.qr_code_data), CodeKind::kSigned);
  SignedCode code = ParseSignedCode(t.qr_code_data).value();
  EXPECT_EQ(code.claims.ticket_id, t.id);
  EXPECT_EQ(code.claims.event_id, e.id);
  EXPECT_EQ(code.claims.key_id, 1u);
  EXPECT_EQ(code.claims.generation, 0);
  EXPECT_EQ(code.claims.valid_from, absl::FromUnixSeconds(absl::ToUnixSeconds(e.ValidFrom())));
  std::vector<EventKey> keys = ticketing_->ListKeys(e.id).value();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(VerifySignedCode(code, keys[0].public_key));
}

TEST_F(ScannerTest, AdmitsOnceThenAlreadyUsedWithTheFirstScan) {
  Event e = NewEvent();
  Ticket t = Issue(e, 1)[0];
  ScanResult first = Scan(t.qr_code_data, e.id, "scanner-1", "A", "op-1");
  EXPECT_TRUE(first.valid);
  EXPECT_EQ(first.reason, "ok");
  EXPECT_EQ(first.ticket_id, t.id);
  EXPECT_EQ(first.guest_name, "Jean Dupont");
  EXPECT_EQ(first.scan_count, 1);
  clock_.Advance(absl::Seconds(30));
  ScanResult second = Scan(t.qr_code_data, e.id, "scanner-2", "B", "op-2");
  EXPECT_FALSE(second.valid);
  EXPECT_EQ(second.reason, "already_used");
  ASSERT_TRUE(second.first.has_value());
  EXPECT_EQ(second.first->scan_id, first.scan_id);
  EXPECT_EQ(second.first->gate, "A");
  EXPECT_EQ(second.first->operator_id, "op-1");
  EXPECT_EQ(second.first->at, clock_.Now() - absl::Seconds(30));
  EXPECT_EQ(second.scan_count, 1);
  Ticket used = ticketing_->GetTicket(t.id).value();
  EXPECT_EQ(used.status, TicketStatus::kUsed);
  EXPECT_TRUE(used.is_validated);
  EXPECT_EQ(used.validated_at, clock_.Now() - absl::Seconds(30));
  // The ticket number typed by hand designates the same ticket.
  EXPECT_EQ(Scan(absl::AsciiStrToLower(t.ticket_code), e.id, "scanner-3").reason, "already_used");
}

TEST_F(ScannerTest, SameScannerRereadingGetsTheSameAnswer) {
  Event e = NewEvent();
  Ticket t = Issue(e, 1)[0];
  ScanResult first = Scan(t.qr_code_data, e.id);
  ASSERT_TRUE(first.valid);
  clock_.Advance(absl::Seconds(2));
  ScanResult again = Scan(t.qr_code_data, e.id);
  EXPECT_TRUE(again.valid);
  EXPECT_TRUE(again.repeat);
  EXPECT_EQ(again.reason, "ok");
  EXPECT_EQ(again.scan_count, 1);
  std::vector<ScanRecord> log = scanner_->ListScans({.event_id = e.id}).value();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].repeat_of, first.scan_id);
  EXPECT_FALSE(log[0].admitted);
  // After the window the same scanner is told the truth.
  clock_.Advance(absl::Seconds(6));
  EXPECT_EQ(Scan(t.qr_code_data, e.id).reason, "already_used");
}

// Seed 003's body names the operator, not the scanner: the operator's re-read is a repeat,
// another operator's scan of the same ticket is not.
TEST_F(ScannerTest, WithoutAScannerIdTheOperatorsRereadIsARepeat) {
  Event e = NewEvent();
  Ticket t = Issue(e, 1)[0];
  auto scan = [&](std::string operator_id, std::string gate = "A") {
    ScanRequest r;
    r.code = t.qr_code_data;
    r.event_id = e.id;
    r.operator_id = std::move(operator_id);
    r.gate = std::move(gate);
    return scanner_->Validate(r).value();
  };
  ScanResult first = scan("op-1");
  ASSERT_TRUE(first.valid);
  clock_.Advance(absl::Seconds(2));
  ScanResult again = scan("op-1");
  EXPECT_TRUE(again.valid);
  EXPECT_TRUE(again.repeat);
  EXPECT_EQ(again.scan_count, 1);
  // The same operator name at another gate is another device (a copy of the ticket).
  EXPECT_EQ(scan("op-1", "B").reason, "already_used");
  ScanResult other = scan("op-2");
  EXPECT_FALSE(other.valid);
  EXPECT_EQ(other.reason, "already_used");
  // With neither id there is no telling who re-reads: the truth.
  EXPECT_EQ(scan("").reason, "already_used");
}

TEST_F(ScannerTest, NonceReplayReturnsTheRecordedScan) {
  Event e = NewEvent();
  std::vector<Ticket> t = Issue(e, 2);
  ScanRequest r;
  r.code = t[0].qr_code_data;
  r.event_id = e.id;
  r.scanner_id = "s1";
  r.nonce = "n-1";
  ScanResult a = scanner_->Validate(r).value();
  clock_.Advance(absl::Minutes(5));
  ScanResult b = scanner_->Validate(r).value();
  EXPECT_TRUE(a.valid);
  EXPECT_TRUE(b.valid);
  EXPECT_TRUE(b.repeat);
  EXPECT_EQ(a.scan_id, b.scan_id);
  EXPECT_EQ(scanner_->ListScans({.event_id = e.id}).value().size(), 1u);
  r.code = t[1].qr_code_data;
  EXPECT_EQ(scanner_->Validate(r).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(ScannerTest, TamperedAndForgedCodesAreRefused) {
  Event e = NewEvent();
  Ticket t = Issue(e, 1)[0];
  // A forged code: right layout and key id, signed with another key.
  SignedCode real = ParseSignedCode(t.qr_code_data).value();
  TicketClaims claims = real.claims;
  claims.ticket_id += 1000;
  std::string forged = EncodeSignedCode(claims, GenerateSigningKey()).value();
  EXPECT_EQ(Scan(forged, e.id).reason, "invalid_signature");
  // Every one-character change of the real code.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  for (size_t i = 0; i < t.qr_code_data.size(); i += 7) {
    std::string bad = t.qr_code_data;
    bad[i] = alphabet[(alphabet.find(bad[i]) + 1) % alphabet.size()];
    ScanResult r = Scan(bad, e.id, StrCat("tamper-", i));
    EXPECT_FALSE(r.valid) << i;
    EXPECT_TRUE(r.reason == "invalid_signature" || r.reason == "invalid_code") << r.reason;
  }
  EXPECT_EQ(Scan("not a ticket", e.id).reason, "invalid_code");
  EXPECT_EQ(Scan("TKT-001-0000000000", e.id).reason, "invalid_code");
  // The real one still works.
  EXPECT_TRUE(Scan(t.qr_code_data, e.id, "other").valid);
}

TEST_F(ScannerTest, ReissuedAndCancelledTicketsAreRevoked) {
  Event e = NewEvent();
  std::vector<Ticket> t = Issue(e, 2);
  Ticket re = ticketing_->ReissueTicket(t[0].id).value();
  EXPECT_EQ(re.generation, 1);
  EXPECT_NE(re.qr_code_data, t[0].qr_code_data);
  EXPECT_NE(re.ticket_code, t[0].ticket_code);
  EXPECT_EQ(Scan(t[0].qr_code_data, e.id, "s1").reason, "revoked");
  EXPECT_EQ(Scan(t[0].ticket_code, e.id, "s2").reason, "revoked");
  EXPECT_TRUE(Scan(re.qr_code_data, e.id, "s3").valid);

  Ticket cancelled = ticketing_->CancelTicket(t[1].id).value();
  EXPECT_EQ(cancelled.status, TicketStatus::kCancelled);
  EXPECT_EQ(Scan(t[1].qr_code_data, e.id, "s4").reason, "cancelled");
  EXPECT_EQ(ticketing_->ReissueTicket(t[1].id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<Revocation> revs = ticketing_->ListRevocations(e.id, 0, 100).value();
  ASSERT_EQ(revs.size(), 2u);
  EXPECT_EQ(revs[0].ticket_id, t[0].id);
  EXPECT_EQ(revs[0].generation, 0);
  EXPECT_EQ(revs[0].reason, "reissued");
  EXPECT_EQ(revs[1].ticket_id, t[1].id);
  EXPECT_EQ(revs[1].reason, "cancelled");
  EXPECT_EQ(ticketing_->ListRevocations(e.id, revs[0].seq, 100).value().size(), 1u);
}

TEST_F(ScannerTest, WrongEventPendingAndEventStatus) {
  Event a = NewEvent();
  Event b = NewEvent();
  Ticket t = Issue(a, 1)[0];
  EXPECT_EQ(Scan(t.qr_code_data, b.id).reason, "wrong_event");
  Ticket pending = Issue(a, 1, TicketStatus::kPending)[0];
  EXPECT_EQ(Scan(pending.qr_code_data, a.id, "s2").reason, "unpaid");
  a.status = EventStatus::kCancelled;
  ASSERT_TRUE(ticketing_->UpdateEvent(a).ok());
  EXPECT_EQ(Scan(t.qr_code_data, a.id, "s3").reason, "event_not_active");
}

TEST_F(ScannerTest, ValidityWindow) {
  Event e = NewEvent();
  Ticket t = Issue(e, 1)[0];
  const absl::Time now = clock_.Now();
  clock_.Set(e.ValidFrom() - absl::Seconds(1));
  EXPECT_EQ(Scan(t.qr_code_data, e.id, "s1").reason, "not_yet_valid");
  clock_.Set(e.ValidUntil() + absl::Seconds(1));
  EXPECT_EQ(Scan(t.qr_code_data, e.id, "s2").reason, "expired");
  clock_.Set(now);
  EXPECT_TRUE(Scan(t.qr_code_data, e.id, "s3").valid);
}

TEST_F(ScannerTest, RevokedKeyRefusesItsCodesAndRotationSignsWithTheNext) {
  Event e = NewEvent();
  Ticket old = Issue(e, 1)[0];
  EventKey k2 = ticketing_->RotateKey(e.id).value();
  EXPECT_EQ(k2.key_id, 2);
  Ticket fresh = Issue(e, 1)[0];
  EXPECT_EQ(fresh.key_id, 2);
  EXPECT_EQ(ParseSignedCode(fresh.qr_code_data).value().claims.key_id, 2u);
  // Rotation alone: codes key 1 signed still verify.
  ScanRequest check;
  check.code = old.qr_code_data;
  check.event_id = e.id;
  EXPECT_TRUE(scanner_->Check(check).value().valid);
  ASSERT_TRUE(ticketing_->RevokeKey(e.id, 1).ok());
  EXPECT_EQ(Scan(old.qr_code_data, e.id, "s1").reason, "key_revoked");
  EXPECT_TRUE(Scan(fresh.qr_code_data, e.id, "s2").valid);
}

TEST_F(ScannerTest, OperatorsAndGates) {
  Event e = NewEvent();
  std::vector<Ticket> t = Issue(e, 3);
  ASSERT_TRUE(ticketing_->PutGate({e.id, "A", "North", GateKind::kEntry}).ok());
  ASSERT_TRUE(ticketing_->PutGate({e.id, "B", "South", GateKind::kBoth}).ok());
  Operator op;
  op.event_id = e.id;
  op.operator_id = "operator-123";
  op.gates = {"A"};
  ASSERT_TRUE(ticketing_->PutOperator(op).ok());
  EXPECT_EQ(Scan(t[0].qr_code_data, e.id, "s1", "A", "stranger").reason, "operator_not_allowed");
  EXPECT_EQ(Scan(t[0].qr_code_data, e.id, "s2", "B", "operator-123").reason, "gate_not_allowed");
  EXPECT_EQ(Scan(t[0].qr_code_data, e.id, "s3", "Z", "operator-123").reason, "gate_not_allowed");
  EXPECT_TRUE(Scan(t[0].qr_code_data, e.id, "s4", "A", "operator-123").valid);
  // A logged-in operator must be door staff of the event.
  ScanRequest r;
  r.code = t[1].qr_code_data;
  r.event_id = e.id;
  r.gate = "A";
  r.user_id = "usr_42";
  EXPECT_EQ(scanner_->Validate(r).value().reason, "operator_not_allowed");
  op.user_id = "usr_42";
  ASSERT_TRUE(ticketing_->PutOperator(op).ok());
  EXPECT_TRUE(scanner_->Validate(r).value().valid);
}

// Scans cache the event, its keys and the door-staff answers under the event's
// config_version: each kind of change, by this process or another, reaches the next scan.
TEST_F(ScannerTest, EveryConfigurationChangeReachesTheNextScan) {
  // A later migration that rebuilt one of the four tables would drop its triggers.
  int64_t triggers = 0;
  ASSERT_TRUE(store_
                  ->Read([&](store::Txn& txn) {
                    return txn.Query(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                        " AND name GLOB 'ticket_*_config_*'",
                        {}, [&](const store::Row& r) {
                          triggers = r.Int(0);
                          return false;
                        });
                  })
                  .ok());
  EXPECT_EQ(triggers, 11);  // insert, update (and delete) on events, keys, door staff, gates
  Event e = NewEvent();
  std::vector<Ticket> t = Issue(e, 8);
  ASSERT_TRUE(Scan(t[0].qr_code_data, e.id, "s0", "A", "op-1").valid);  // fills the cache
  // A gate (ticket_gates insert, then update).
  ASSERT_TRUE(ticketing_->PutGate({e.id, "A", "North", GateKind::kExit}).ok());
  EXPECT_EQ(Scan(t[1].qr_code_data, e.id, "s1", "A", "op-1").reason, "gate_not_allowed");
  ASSERT_TRUE(ticketing_->PutGate({e.id, "A", "North", GateKind::kBoth}).ok());
  EXPECT_TRUE(Scan(t[1].qr_code_data, e.id, "s2", "A", "op-1").valid);
  // Door staff (ticket_operators insert, then delete).
  Operator op;
  op.event_id = e.id;
  op.operator_id = "op-2";
  ASSERT_TRUE(ticketing_->PutOperator(op).ok());
  EXPECT_EQ(Scan(t[2].qr_code_data, e.id, "s3", "A", "op-1").reason, "operator_not_allowed");
  ASSERT_TRUE(ticketing_->DeleteOperator(e.id, "op-2").ok());
  EXPECT_TRUE(Scan(t[2].qr_code_data, e.id, "s4", "A", "op-1").valid);
  // The event itself.
  e.status = EventStatus::kCancelled;
  ASSERT_TRUE(ticketing_->UpdateEvent(e).ok());
  EXPECT_EQ(Scan(t[3].qr_code_data, e.id, "s5", "A", "op-1").reason, "event_not_active");
  e.status = EventStatus::kActive;
  ASSERT_TRUE(ticketing_->UpdateEvent(e).ok());
  EXPECT_TRUE(Scan(t[3].qr_code_data, e.id, "s6", "A", "op-1").valid);
  // Its key (ticket_keys update).
  ASSERT_TRUE(ticketing_->RotateKey(e.id).ok());
  EXPECT_TRUE(Scan(t[4].qr_code_data, e.id, "s7", "A", "op-1").valid);  // key 1, cached
  ASSERT_TRUE(ticketing_->RevokeKey(e.id, 1).ok());
  EXPECT_EQ(Scan(t[5].qr_code_data, e.id, "s8", "A", "op-1").reason, "key_revoked");
  // Another process (the CLI, say), writing SQL through its own connection.
  Event other = NewEvent();
  std::vector<Ticket> u = Issue(other, 3);
  ASSERT_TRUE(Scan(u[0].qr_code_data, other.id, "s9", "A", "op-1").valid);
  store::SqliteOptions so;
  so.path = dir_.File("herald.db");
  std::unique_ptr<store::SqliteStore> cli = std::move(store::SqliteStore::Open(so)).value();
  ASSERT_TRUE(cli->Write([&](store::Txn& txn) {
                   return txn
                       .Exec(
                           "INSERT INTO ticket_gates (event_id, gate_id, name, kind)"
                           " VALUES (?, 'B', 'South', 'entry')",
                           {other.id})
                       .status();
                 })
                  .ok());
  EXPECT_EQ(Scan(u[1].qr_code_data, other.id, "s10", "A", "op-1").reason, "gate_not_allowed");
  ASSERT_TRUE(cli->Write([&](store::Txn& txn) {
                   return txn.Exec("DELETE FROM ticket_gates").status();  // no WHERE: every row
                 })
                  .ok());
  EXPECT_TRUE(Scan(u[1].qr_code_data, other.id, "s11", "A", "op-1").valid);
  ASSERT_TRUE(cli->Write([&](store::Txn& txn) {
                   return txn
                       .Exec("UPDATE ticket_events SET status = 'draft' WHERE id = ?", {other.id})
                       .status();
                 })
                  .ok());
  EXPECT_EQ(Scan(u[2].qr_code_data, other.id, "s12", "A", "op-1").reason, "event_not_active");
}

TEST_F(ScannerTest, CapacityCountsPeopleInside) {
  Event e = NewEvent(CodeMode::kSigned, /*reentry=*/true, /*capacity=*/1);
  std::vector<Ticket> t = Issue(e, 2);
  EXPECT_TRUE(Scan(t[0].qr_code_data, e.id, "s1").valid);
  EXPECT_EQ(Scan(t[1].qr_code_data, e.id, "s2").reason, "capacity_reached");
  ScanRequest exit;
  exit.code = t[0].qr_code_data;
  exit.event_id = e.id;
  exit.scanner_id = "s3";
  exit.exit = true;
  ScanResult out = scanner_->Validate(exit).value();
  EXPECT_TRUE(out.valid);
  EXPECT_TRUE(out.exit);
  EXPECT_TRUE(Scan(t[1].qr_code_data, e.id, "s4").valid);
  ScanStats st = scanner_->Stats(e.id).value();
  EXPECT_EQ(st.admitted, 2);
  EXPECT_EQ(st.inside, 1);
  EXPECT_EQ(st.capacity, 1);
}

TEST_F(ScannerTest, ReentryPolicy) {
  Event single = NewEvent();
  Ticket a = Issue(single, 1)[0];
  ASSERT_TRUE(Scan(a.qr_code_data, single.id, "s1").valid);
  ScanRequest exit;
  exit.code = a.qr_code_data;
  exit.event_id = single.id;
  exit.scanner_id = "s2";
  exit.exit = true;
  EXPECT_EQ(scanner_->Validate(exit).value().reason, "exit_not_allowed");

  Event multi = NewEvent(CodeMode::kSigned, /*reentry=*/true);
  Ticket b = Issue(multi, 1)[0];
  exit.code = b.qr_code_data;
  exit.event_id = multi.id;
  exit.scanner_id = "s3";
  EXPECT_EQ(scanner_->Validate(exit).value().reason, "not_inside");
  ASSERT_TRUE(Scan(b.qr_code_data, multi.id, "s4").valid);
  EXPECT_EQ(Scan(b.qr_code_data, multi.id, "s5").reason, "already_used");  // still inside
  exit.scanner_id = "s6";
  ASSERT_TRUE(scanner_->Validate(exit).value().valid);
  ScanResult back = Scan(b.qr_code_data, multi.id, "s7");
  EXPECT_TRUE(back.valid);
  EXPECT_TRUE(back.reentry);
  EXPECT_EQ(back.scan_count, 2);
}

TEST_F(ScannerTest, RandomCodesAndTicketNumbers) {
  Event e = NewEvent(CodeMode::kRandom);
  std::vector<Ticket> t = Issue(e, 2);
  EXPECT_EQ(t[0].qr_code_data.size(), 26u);
  EXPECT_EQ(ClassifyCode(t[0].qr_code_data), CodeKind::kRandom);
  EXPECT_TRUE(Scan(t[0].qr_code_data, e.id, "s1").valid);
  EXPECT_TRUE(Scan(t[1].ticket_code, e.id, "s2").valid);
  std::string unknown = RandomCode();
  EXPECT_EQ(Scan(unknown, e.id, "s3").reason, "invalid_code");
  Ticket re = Issue(e, 1)[0];
  std::string old = re.qr_code_data;
  ASSERT_TRUE(ticketing_->ReissueTicket(re.id).ok());
  EXPECT_EQ(Scan(old, e.id, "s4").reason, "revoked");
}

TEST_F(ScannerTest, OfflineScansAreRecordedAndDoubleAdmissionsFlagged) {
  Event e = NewEvent();
  std::vector<Ticket> t = Issue(e, 2);
  const absl::Time door = clock_.Now() - absl::Minutes(20);
  std::vector<ScanRequest> up(3);
  for (int i = 0; i < 3; ++i) {
    up[i].code = t[i == 2 ? 1 : 0].qr_code_data;
    up[i].event_id = e.id;
    up[i].scanner_id = StrCat("offline-", i);
    up[i].nonce = StrCat("n", i);
    up[i].device_time = door + absl::Minutes(i);
    up[i].device_admitted = true;
  }
  std::vector<ScanResult> res = scanner_->Upload(up).value();
  ASSERT_EQ(res.size(), 3u);
  EXPECT_EQ(res[0].reason, "ok");
  EXPECT_FALSE(res[0].conflict);
  EXPECT_EQ(res[1].reason, "already_used");  // the same ticket admitted by a second device
  EXPECT_TRUE(res[1].conflict);
  EXPECT_TRUE(res[2].valid);
  Ticket used = ticketing_->GetTicket(t[0].id).value();
  EXPECT_EQ(used.validated_at, door);  // the device's time, not the upload's
  // Uploading the same batch again records nothing new.
  std::vector<ScanResult> again = scanner_->Upload(up).value();
  EXPECT_TRUE(again[1].repeat);
  EXPECT_EQ(again[1].scan_id, res[1].scan_id);
  std::vector<ScanRecord> conflicts =
      scanner_->ListScans({.event_id = e.id, .conflicts_only = true}).value();
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].scanner_id, "offline-1");
  EXPECT_EQ(conflicts[0].device_time, door + absl::Minutes(1));
  EXPECT_EQ(conflicts[0].server_time, clock_.Now());
  EXPECT_EQ(scanner_->Stats(e.id).value().conflicts, 1);
}

TEST_F(ScannerTest, AnOfflineAdmissionTheServerRefusesStillUsesTheTicket) {
  Event e = NewEvent(CodeMode::kSigned, /*reentry=*/false, /*capacity=*/1);
  std::vector<Ticket> t = Issue(e, 2);
  ASSERT_TRUE(Scan(t[0].qr_code_data, e.id, "online").valid);
  ScanRequest up;
  up.code = t[1].qr_code_data;
  up.event_id = e.id;
  up.scanner_id = "tablet";
  up.nonce = "n1";
  up.device_time = clock_.Now() - absl::Minutes(1);
  up.device_admitted = true;
  ScanRequest reused = up;
  reused.code = t[0].qr_code_data;  // the same nonce for another ticket
  std::vector<ScanResult> res = scanner_->Upload({up, reused}).value();
  EXPECT_EQ(res[0].reason, "capacity_reached");
  EXPECT_TRUE(res[0].conflict);
  EXPECT_EQ(res[1].reason, "nonce_reused");  // reported; the rest of the upload is recorded
  EXPECT_EQ(ticketing_->GetTicket(t[1].id).value().status, TicketStatus::kUsed);
  // A copy of the ticket the device let in does not get in online.
  EXPECT_EQ(Scan(t[1].qr_code_data, e.id, "copy").reason, "already_used");
}

TEST_F(ScannerTest, DoorStaffEventsRefuseAnonymousScansAndHideTheHolder) {
  Event e = NewEvent();
  std::vector<Ticket> t = Issue(e, 1);
  Operator op;
  op.event_id = e.id;
  op.operator_id = "op-1";
  ASSERT_TRUE(ticketing_->PutOperator(op).ok());
  ScanResult anonymous = Scan(t[0].qr_code_data, e.id, "s1", "", "");
  EXPECT_EQ(anonymous.reason, "operator_not_allowed");
  EXPECT_TRUE(anonymous.guest_name.empty());
  EXPECT_TRUE(anonymous.ticket_code.empty());
  EXPECT_TRUE(Scan(t[0].qr_code_data, e.id, "s2", "", "op-1").valid);
}

TEST_F(ScannerTest, AReadAfterAnExitIsNotARepeat) {
  Event e = NewEvent(CodeMode::kSigned, /*reentry=*/true);
  Ticket t = Issue(e, 1)[0];
  ASSERT_TRUE(Scan(t.qr_code_data, e.id, "door").valid);
  ScanRequest exit;
  exit.code = t.qr_code_data;
  exit.event_id = e.id;
  exit.scanner_id = "exit-door";
  exit.exit = true;
  ASSERT_TRUE(scanner_->Validate(exit).value().valid);
  ScanResult back = Scan(t.qr_code_data, e.id, "door");  // within the repeat window
  EXPECT_FALSE(back.repeat);
  EXPECT_TRUE(back.reentry);
  EXPECT_EQ(scanner_->Stats(e.id).value().inside, 1);
}

TEST_F(ScannerTest, CheckRecordsNothing) {
  Event e = NewEvent();
  Ticket t = Issue(e, 1)[0];
  ScanRequest r;
  r.code = t.qr_code_data;
  r.event_id = e.id;
  ScanResult c = scanner_->Check(r).value();
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.scan_id, 0);
  EXPECT_TRUE(scanner_->ListScans({.event_id = e.id}).value().empty());
  EXPECT_EQ(ticketing_->GetTicket(t.id).value().status, TicketStatus::kIssued);
}

TEST_F(ScannerTest, ConcurrentGatesAdmitEachTicketExactlyOnce) {
  Event e = NewEvent();
  std::vector<Ticket> tickets = Issue(e, 300);
  std::atomic<int> admitted{0}, used{0}, other{0};
  std::vector<std::thread> gates;
  for (int g = 0; g < 8; ++g) {
    gates.emplace_back([&, g] {
      for (const Ticket& t : tickets) {
        ScanRequest r;
        r.code = t.qr_code_data;
        r.event_id = e.id;
        r.scanner_id = StrCat("gate-", g);
        r.gate = StrCat("G", g);
        Result<ScanResult> out = scanner_->Validate(r);
        if (!out.ok()) {
          ++other;
        } else if (out->valid) {
          ++admitted;
        } else if (out->reason == "already_used") {
          ++used;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : gates) t.join();
  EXPECT_EQ(admitted.load(), 300);
  EXPECT_EQ(used.load(), 300 * 7);
  EXPECT_EQ(other.load(), 0);
  ScanStats st = scanner_->Stats(e.id).value();
  EXPECT_EQ(st.admitted, 300);
  EXPECT_EQ(st.scans, 2400);
  EXPECT_THAT(st.by_reason, ElementsAre(Pair("already_used", 2100), Pair("ok", 300)));
}

TEST_F(ScannerTest, MalformedRequestsAreErrors) {
  ScanRequest r;
  EXPECT_EQ(scanner_->Validate(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.code = std::string(600, 'A');
  EXPECT_EQ(scanner_->Validate(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.code = "TKT-001-0000000000";
  r.scanner_id = "bad\nid";
  EXPECT_EQ(scanner_->Validate(r).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<ScanRequest> offline(1);
  offline[0].code = "X";
  EXPECT_EQ(scanner_->Upload(offline).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ScannerTest, MessagesInBothLanguages) {
  for (std::string_view reason : ScanReasons()) {
    EXPECT_NE(Message(reason, "fr"), Message(reason, "en")) << reason;
    EXPECT_NE(Message(reason, "en"), "Validation error") << reason;
  }
  EXPECT_EQ(Message("already_used", "fr"), "Billet déjà utilisé");
  // An exit's "ok" lets someone out: it does not say "entry allowed".
  EXPECT_EQ(Message("ok", "en", /*exit=*/true), "Exit recorded");
  EXPECT_EQ(Message("ok", "fr", /*exit=*/true), "Sortie enregistrée");
  EXPECT_EQ(Message("already_used", "en", /*exit=*/true), Message("already_used", "en"));
  EXPECT_NE(std::find(ScanReasons().begin(), ScanReasons().end(), "nonce_reused"),
            ScanReasons().end());
}

}  // namespace
}  // namespace herald::apps::tickets
