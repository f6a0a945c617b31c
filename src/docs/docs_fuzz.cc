// libFuzzer target for what a caller controls in POST /api/documents/generate: a custom
// template description and a document's data. The input is JSON; the first byte picks what it
// is fed to: a template (parsed, and rendered when it parses), or the data of each kind for
// each audience (prepared, and rendered with the built-in template when it is accepted).
// Errors must be InvalidArgument, PermissionDenied or ResourceExhausted: never a crash, never
// an internal error.

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "boost/json.hpp"
#include "docs/kinds.h"
#include "docs/layout.h"
#include "docs/pdf.h"

namespace {

namespace docs = herald::docs;

void Check(const absl::Status& s) {
  if (s.ok()) return;
  const auto code = s.code();
  if (code != absl::StatusCode::kInvalidArgument && code != absl::StatusCode::kPermissionDenied &&
      code != absl::StatusCode::kResourceExhausted) {
    std::abort();
  }
}

docs::PdfEngine& Engine() {
  static docs::PdfEngine* engine = docs::PdfEngine::Create().value().release();
  return *engine;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return 0;
  if (data[0] % 2 == 0) {
    auto t = docs::DocTemplate::Parse(v);
    Check(t.status());
    if (t.ok()) {
      static const boost::json::value kData = boost::json::parse(
          R"({"a":"é","items":[{"x":1},{"x":"deux"}],"on":true,"ticket":{"code":"T-1"}})");
      Check(t->Render(Engine(), kData, {}).status());
    }
    return 0;
  }
  for (auto type : {docs::DocumentType::kTicket, docs::DocumentType::kInvoice,
                    docs::DocumentType::kBookingConfirmation, docs::DocumentType::kMissionProposal,
                    docs::DocumentType::kDeltaReport}) {
    for (auto audience : {docs::Audience::kInternalStaff, docs::Audience::kExternalProvider}) {
      auto prepared = docs::PrepareDocument(type, audience, v, data[0] % 4 == 1 ? "fr" : "en");
      Check(prepared.status());
      if (prepared.ok() && size < 4096) {
        Check(docs::BuiltinTemplate(type).Render(Engine(), prepared->data, {}).status());
      }
    }
  }
  return 0;
}
