#pragma once
// `herald bench tickets`: seed 002 flow 1 end to end without HTTP. N signed tickets of one
// event, one guest each, go through TicketGenerator::Start; the engine's workers enrich them,
// make their PDFs, record their files and publish ticket.generated, then the generation
// completes (ticket.completed) and, with --notify, every guest is sent their PDF by email
// (the log provider records each message with its attachment in the store). Reported: tickets
// per second from Start to the generation's completion, and to the last email recorded.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace herald::bench {

struct TicketsBenchOptions {
  int64_t tickets = 10000;
  int workers = 2;
  int concurrency = 2;  // jobs of the documents queue at once
  bool notify = true;
  std::string dir;  // scratch folder; empty: a temporary one
};

struct TicketsBenchResult {
  int64_t tickets = 0;
  double issue_seconds = 0;     // issuing the signed tickets (not generation)
  double generate_seconds = 0;  // Start to the generation's completion
  double tickets_per_s = 0;
  double notify_seconds = 0;  // Start to the last email recorded (0 without --notify)
  int64_t emails = 0;
  int64_t pdf_bytes = 0;  // all PDFs together
  std::string ToJson() const;
};

Result<TicketsBenchResult> RunTicketsBench(const TicketsBenchOptions& options);

}  // namespace herald::bench
