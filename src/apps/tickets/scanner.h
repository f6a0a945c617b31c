#pragma once
// Scanner: door validation of tickets (seed 002 flow 3, seed 003 flow 5).
//
// A scan presents a code (the QR's signed or random code, or the ticket number typed by
// hand) or, from the scan-validation service, a ticket id. The checks run in this order and
// the first that fails gives the scan's reason (a stable code; Message() words it in French
// or English):
//   invalid_code       the code is malformed or matches no ticket
//   invalid_signature  a signed code whose signature does not verify under the event's key
//   key_revoked        signed by a key the organiser revoked
//   revoked            a code replaced by a reissue, or of a cancelled ticket
//   wrong_event        the ticket is for another event
//   cancelled          the ticket was cancelled
//   unpaid             its purchase is not paid
//   event_not_active   the event is a draft, cancelled or completed
//   not_yet_valid      before the ticket's validity window (doors open)
//   expired            after it
//   operator_not_allowed  the operator is not door staff of this event
//   gate_not_allowed   the operator may not scan at this gate, or the gate does not exist
//   exit_not_allowed   an exit scan for an event without re-entry, or at an entry-only gate
//   not_inside         an exit scan for a ticket that is not inside
//   already_used       admitted before: the answer carries the first admission's time, gate,
//                      operator and scanner
//   capacity_reached   the event's max_attendees are inside
//   nonce_reused       (offline uploads) the scanner used this nonce for another code; the
//                      scan is not recorded, the upload's other scans are
//   ok                 admitted (or, for an exit scan, the exit recorded)
//
// Exactly-once admission: every scan runs in one store write transaction, and the admission
// is a conditional update (status issued -> used) of the ticket's row. Writes are serialised
// by the store, so of any number of concurrent scans of one ticket exactly one is admitted and
// the others read "already_used" with the first admission's details.
//
// Repeated reads: a scan with a nonce already recorded for the same scanner returns the
// recorded answer and records nothing (a nonce reused for another code is AlreadyExists). A
// scan without a nonce of a code the same scanner admitted (or let out) within
// `repeat_window` gets that answer again (marked repeat), recorded as a repeat, never as a
// second entry; refusals are not repeated but checked again.
//
// Offline scans are facts, not requests: they are uploaded later with the device's time and
// its verdict, and always recorded. One the device admitted moves the ticket to used when
// nothing admitted it before, even when the server's checks would have refused it; when the
// server's checks refuse it (already used by another scan, cancelled, capacity...) it is
// recorded as a conflict, never merged silently.
//
// Door staff: an event with registered door staff accepts scans only from them (a scan that
// names no operator is refused); an event with gates requires a known gate. The ticket's
// holder and number are answered only when the operator check passed.
//
// Every attempt is logged (ticket_scans) with its device metadata. Thread-safe.
//
// What scans read of an event's configuration (the event, its keys, the door-staff and gate
// check's answers) is cached under the event's config_version, which every change to them
// replaces in its own transaction: a scan uses the cache only for the version its own
// transaction reads.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "apps/tickets/ticketing.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace herald::apps::tickets {

enum class ScanSource { kOnline, kOffline, kInternal };
std::string_view ScanSourceName(ScanSource s);  // "online", "offline", "internal"

struct ScanRequest {
  std::string code;        // any kind of code; or
  int64_t ticket_id = 0;   // the ticket, when a service already decoded the code
  int64_t event_id = 0;    // the event being scanned for; 0: the ticket's
  std::string scanner_id;  // the device; at most 128 bytes
  std::string operator_id;
  // When the caller is a Herald user with the operator role: they must be door staff of the
  // event (an operator row with this user id), and the scan is recorded under that row's
  // operator id, whatever operator_id says.
  std::string user_id;
  std::string gate;
  bool exit = false;  // an exit scan (events with re-entry)
  std::string nonce;  // idempotency key of the scanner; at most 128 bytes
  std::optional<absl::Time> device_time;
  ScanSource source = ScanSource::kOnline;
  bool device_admitted = false;  // offline: the device let the holder in
  std::string metadata_json;     // device and location details, a JSON object, stored as is
};

struct FirstAdmission {
  int64_t scan_id = 0;
  absl::Time at;
  std::string gate;
  std::string operator_id;
  std::string scanner_id;
};

struct ScanResult {
  bool valid = false;     // admitted, or exit recorded
  std::string reason;     // see above
  int64_t scan_id = 0;    // the recorded scan (the original one for a nonce replay)
  bool repeat = false;    // the answer of an earlier scan, given again
  bool conflict = false;  // offline: admitted by the device against the server's checks
  bool reentry = false;   // admitted again after an exit
  bool exit = false;
  int64_t event_id = 0;
  int64_t ticket_id = 0;  // 0 when no ticket was found
  int64_t guest_id = 0;
  std::string ticket_code;  // the ticket's number
  std::string ticket_type;
  std::string seat;
  std::string guest_name;
  int64_t scan_count = 0;  // admissions of the ticket so far
  std::optional<absl::Time> last_scan_at;
  std::optional<FirstAdmission> first;  // for already_used and admitted tickets
  absl::Time server_time;
};

// The reason's message in "fr" or "en" (anything else: English); `exit`: the scan was an
// exit (its "ok" lets someone out, not in).
std::string_view Message(std::string_view reason, std::string_view lang, bool exit = false);
// Every reason code, in the order of the checks (ok last).
std::span<const std::string_view> ScanReasons();

struct ScanRecord {
  int64_t id = 0;
  int64_t event_id = 0;
  int64_t ticket_id = 0;
  std::string scanner_id;
  std::string operator_id;
  std::string gate;
  std::string direction;  // "entry" or "exit"
  std::string result;     // the reason
  bool admitted = false;
  std::string source;
  std::string nonce;
  std::optional<absl::Time> device_time;
  absl::Time server_time;
  bool conflict = false;
  int64_t repeat_of = 0;
  std::string metadata_json;
};

struct ScanFilter {
  int64_t event_id = 0;   // 0: any
  int64_t ticket_id = 0;  // 0: any
  std::string result;     // "": any
  bool conflicts_only = false;
  int64_t before_id = 0;  // cursor (newest first): ids smaller than this; 0: from the newest
  int limit = 100;        // clamped to 1..1000
};

struct GateCount {
  std::string gate;
  int64_t entries = 0;
  int64_t exits = 0;
  int64_t refused = 0;
};

struct ScanStats {
  int64_t event_id = 0;
  int64_t tickets = 0;   // issued or used
  int64_t admitted = 0;  // tickets admitted at least once
  int64_t inside = 0;
  std::optional<int64_t> capacity;
  int64_t scans = 0;
  int64_t conflicts = 0;
  std::vector<std::pair<std::string, int64_t>> by_reason;  // refused and repeat scans too
  std::vector<GateCount> by_gate;
};

class ScanConfigCache;  // scanner.cc

struct ScannerOptions {
  absl::Duration repeat_window = absl::Seconds(5);
};

class Scanner {
 public:
  // `ticketing`'s tables must be migrated. The store and clock must outlive the scanner.
  Scanner(store::Store& store, const core::Clock& clock, ScannerOptions options = {});

  // Validates and records one scan. InvalidArgument for a malformed request (no code and no
  // ticket id, oversized fields...); AlreadyExists for a nonce reused with another code.
  // Refusals are results (valid false), not errors.
  Result<ScanResult> Validate(const ScanRequest& request);
  // The same without blocking the caller: `done` runs on the store's writer thread once the
  // scan is durable.
  void ValidateAsync(ScanRequest request, std::function<void(Result<ScanResult>)> done);
  // Runs the checks without recording anything or admitting (seed 003's validate-ticket).
  Result<ScanResult> Check(const ScanRequest& request);
  // Records offline scans (source offline), in one transaction, in the order given.
  Result<std::vector<ScanResult>> Upload(std::vector<ScanRequest> scans);

  Result<std::vector<ScanRecord>> ListScans(const ScanFilter& filter);
  Result<ScanStats> Stats(int64_t event_id);

  ~Scanner();

 private:
  store::Store& store_;
  const core::Clock& clock_;
  const ScannerOptions options_;
  const std::unique_ptr<ScanConfigCache> config_;
};

}  // namespace herald::apps::tickets
