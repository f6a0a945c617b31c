#include "webhooks/dispatcher.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "boost/json.hpp"
#include "core/clock.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/testing/fake_http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/signatures.h"
#include "webhooks/testing/sign_js.h"

namespace herald::webhooks {
namespace {

namespace json = boost::json;
using net::testing::FakeHttpServer;
using net::testing::FakeRequest;
using net::testing::FakeResponse;
using ::testing::HasSubstr;
using testing::JsonLines;
using testing::NodeRun;
using testing::PeersInstalled;
using testing::RunSignJs;
using ::testing::StartsWith;

constexpr absl::Duration kTolerance = absl::Minutes(5);
// The official Standard Webhooks test secret (24 bytes), a valid secret that is not generated.
constexpr std::string_view kKnownSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

constexpr store::Migration kCallerMigrations[] = {
    {1, "caller rows", "CREATE TABLE caller_rows (note TEXT NOT NULL);"},
};

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------------------------
// The official standardwebhooks package, through tests/peers/webhooks/sign.js (as in
// signatures_test.cc). Fails, not skips, when Node or the package is missing.

// ---------------------------------------------------------------------------------------------

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.allow_private_addresses = true;  // the receiver is on 127.0.0.1
    ASSERT_NO_FATAL_FAILURE(OpenStore());
    ASSERT_TRUE(engine::Engine::Migrate(*store_).ok());
    ASSERT_TRUE(Dispatcher::Migrate(*store_).ok());
    ASSERT_NO_FATAL_FAILURE(Start());
  }

  void OpenStore() {
    store::SqliteOptions o;
    o.path = dir_.File("webhooks.db");
    auto s = store::SqliteStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  void Start() {
    auto e = engine::Engine::Create(*store_, clock_, {});
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    auto d = Dispatcher::Create(*store_, *engine_, clock_, options_);
    ASSERT_TRUE(d.ok()) << d.status();
    dispatcher_ = std::move(*d);
    ASSERT_TRUE(engine_->Start(false).ok());
  }

  // A process restart: dispatcher, engine and store go away and come back on the same file.
  void Restart(DispatcherOptions options) {
    dispatcher_.reset();
    engine_.reset();
    store_.reset();
    options_ = std::move(options);
    ASSERT_NO_FATAL_FAILURE(OpenStore());
    ASSERT_NO_FATAL_FAILURE(Start());
  }

  // An endpoint on the receiver, unthrottled (most tests look at one thing at a time).
  Endpoint Spec(std::string_view path, std::vector<std::string> types = {}) {
    Endpoint e;
    e.url = StrCat(server_.url(), path);
    e.event_types = std::move(types);
    e.min_interval = absl::ZeroDuration();
    return e;
  }

  Endpoint Create(Endpoint e) {
    Result<Endpoint> r = dispatcher_->CreateEndpoint(std::move(e));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Endpoint{};
  }

  Endpoint GetEndpoint(std::string_view id) {
    Result<Endpoint> r = dispatcher_->GetEndpoint(id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Endpoint{};
  }

  static OutboundEvent Event(std::string type, std::string payload = R"({"n":1})") {
    OutboundEvent e;
    e.type = std::move(type);
    e.payload_json = std::move(payload);
    return e;
  }

  PublishResult Publish(const OutboundEvent& event) {
    Result<PublishResult> r = dispatcher_->Publish(event);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : PublishResult{};
  }

  Delivery GetDelivery(std::string_view id) {
    Result<Delivery> r = dispatcher_->GetDelivery(id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Delivery{};
  }

  std::vector<Delivery> ListDeliveries(DeliveryFilter filter = {}) {
    Result<std::vector<Delivery>> r = dispatcher_->ListDeliveries(filter);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<Delivery>{};
  }

  // Rows of one of the module's tables, to check that a refused call stored nothing.
  int64_t Count(std::string_view table) {
    int64_t n = -1;
    const std::string sql = StrCat("SELECT COUNT(*) FROM ", table);
    Status s = store_->Read([&](store::Txn& txn) {
      return txn.Query(sql, {}, [&](const store::Row& r) {
        n = r.Int(0);
        return false;
      });
    });
    EXPECT_TRUE(s.ok()) << s;
    return n;
  }

  // Waits (real time, bounded) until the receiver has had `n` requests. Only the overlap tests
  // use it: they hold one attempt open in the receiver while another runs.
  bool AwaitRequests(size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (server_.request_count() < n) {
      if (absl::Now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  std::vector<FakeRequest> RequestsTo(std::string_view path) {
    std::vector<FakeRequest> out;
    for (FakeRequest& r : server_.requests()) {
      if (r.Path() == path) out.push_back(std::move(r));
    }
    return out;
  }

  // Whether `r` carries a valid Standard Webhooks signature under `secret` at `now`.
  static ::testing::AssertionResult SignedWith(const FakeRequest& r, std::string_view secret,
                                               absl::Time now) {
    Result<std::string> key = DecodeStandardSecret(secret);
    if (!key.ok()) return ::testing::AssertionFailure() << key.status();
    const std::string id = r.Header("webhook-id");
    const std::string timestamp = r.Header("webhook-timestamp");
    const std::string signature = r.Header("webhook-signature");
    Status s = VerifyStandardWebhook({id, timestamp, signature}, r.body,
                                     std::vector<std::string>{*key}, now, kTolerance);
    if (!s.ok()) return ::testing::AssertionFailure() << s;
    return ::testing::AssertionSuccess();
  }

  herald::testing::TempDir dir_;
  core::ManualClock clock_;
  FakeHttpServer server_;
  DispatcherOptions options_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

// --- endpoints --------------------------------------------------------------------------------

TEST_F(DispatcherTest, CreateRefusesANonPositiveDisableAfter) {
  DispatcherOptions o;
  o.disable_after = absl::ZeroDuration();
  engine::Engine& engine = *engine_;
  EXPECT_TRUE(absl::IsInvalidArgument(Dispatcher::Create(*store_, engine, clock_, o).status()));
}

TEST_F(DispatcherTest, CreateEndpointAssignsAnIdASecretAndDefaults) {
  Endpoint in;
  in.url = StrCat(server_.url(), "/hook");
  in.description = "ops";
  in.id = "ep_chosen_by_the_caller";
  Result<Endpoint> e = dispatcher_->CreateEndpoint(in);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(e->id, StartsWith("ep_"));
  EXPECT_NE(e->id, in.id);
  EXPECT_THAT(e->secret, StartsWith("whsec_"));
  Result<std::string> key = DecodeStandardSecret(e->secret);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 32u);
  EXPECT_TRUE(e->enabled);
  EXPECT_EQ(e->disabled_reason, "");
  EXPECT_EQ(e->min_interval, absl::Milliseconds(200));
  EXPECT_EQ(e->timeout, absl::Seconds(15));
  EXPECT_FALSE(e->failing_since.has_value());
  EXPECT_EQ(e->created_at, clock_.Now());
  EXPECT_EQ(e->updated_at, clock_.Now());

  const Endpoint got = GetEndpoint(e->id);
  EXPECT_EQ(got.id, e->id);
  EXPECT_EQ(got.url, in.url);
  EXPECT_EQ(got.description, "ops");
  EXPECT_EQ(got.secret, e->secret);
  EXPECT_TRUE(got.event_types.empty());
  EXPECT_EQ(got.min_interval, absl::Milliseconds(200));
  EXPECT_EQ(got.timeout, absl::Seconds(15));
  EXPECT_EQ(got.created_at, clock_.Now());

  // A second endpoint: another id, another secret.
  const Endpoint other = Create(Spec("/other"));
  EXPECT_NE(other.id, e->id);
  EXPECT_NE(other.secret, e->secret);
  Result<std::vector<Endpoint>> all = dispatcher_->ListEndpoints();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_F(DispatcherTest, CreateEndpointKeepsAGivenSecretAndNormalisesEventTypes) {
  Endpoint in = Spec("/hook", {"b.*", "a.created", "b.*", "*", "a.created"});
  in.secret = std::string(kKnownSecret);
  in.timeout = absl::Seconds(1);
  in.min_interval = absl::Hours(1);
  const Endpoint e = Create(in);
  EXPECT_EQ(e.secret, kKnownSecret);
  EXPECT_EQ(e.event_types, (std::vector<std::string>{"*", "a.created", "b.*"}));
  const Endpoint got = GetEndpoint(e.id);
  EXPECT_EQ(got.secret, kKnownSecret);
  EXPECT_EQ(got.event_types, e.event_types);
  EXPECT_EQ(got.timeout, absl::Seconds(1));
  EXPECT_EQ(got.min_interval, absl::Hours(1));
  // The other bounds are accepted too.
  Endpoint bounds = Spec("/bounds");
  bounds.timeout = absl::Seconds(60);
  bounds.min_interval = absl::ZeroDuration();
  EXPECT_TRUE(dispatcher_->CreateEndpoint(bounds).ok());
}

TEST_F(DispatcherTest, CreateEndpointRefusesBadFieldsAndStoresNothing) {
  struct Case {
    std::string what;
    std::string field;  // the message names it
    std::function<void(Endpoint&)> change;
  };
  const std::vector<Case> cases = {
      {"ftp scheme", "url", [](Endpoint& e) { e.url = "ftp://example.com/x"; }},
      {"no scheme", "url", [](Endpoint& e) { e.url = "example.com/x"; }},
      {"javascript", "url", [](Endpoint& e) { e.url = "javascript:alert(1)"; }},
      {"empty url", "url", [](Endpoint& e) { e.url = ""; }},
      {"no host", "url", [](Endpoint& e) { e.url = "http://"; }},
      {"no host, a path", "url", [](Endpoint& e) { e.url = "http:///x"; }},
      {"no host, https", "url", [](Endpoint& e) { e.url = "https://"; }},
      {"empty brackets", "url", [](Endpoint& e) { e.url = "http://[]/x"; }},
      {"space in host", "url", [](Endpoint& e) { e.url = "http://exa mple.com/"; }},
      {"space in path", "url", [](Endpoint& e) { e.url = "http://example.com/a b"; }},
      {"newline", "url", [](Endpoint& e) { e.url = "http://example.com/\n"; }},
      {"tab", "url", [](Endpoint& e) { e.url = "http://example.com/\tx"; }},
      {"too long", "url",
       [](Endpoint& e) { e.url = "http://example.com/" + std::string(2030, 'a'); }},
      {"description", "description", [](Endpoint& e) { e.description = std::string(501, 'd'); }},
      {"empty type", "eventTypes", [](Endpoint& e) { e.event_types = {""}; }},
      {"space in type", "eventTypes", [](Endpoint& e) { e.event_types = {"ticket created"}; }},
      {"slash in type", "eventTypes", [](Endpoint& e) { e.event_types = {"a/b"}; }},
      {"bare .*", "eventTypes", [](Endpoint& e) { e.event_types = {".*"}; }},
      {"star inside", "eventTypes", [](Endpoint& e) { e.event_types = {"a.*.b"}; }},
      {"star prefix", "eventTypes", [](Endpoint& e) { e.event_types = {"*.created"}; }},
      {"long type", "eventTypes", [](Endpoint& e) { e.event_types = {std::string(129, 't')}; }},
      {"too many types", "eventTypes",
       [](Endpoint& e) {
         e.event_types.clear();
         for (int i = 0; i < 65; ++i) e.event_types.push_back(StrCat("t", i));
       }},
      {"one bad among good", "eventTypes",
       [](Endpoint& e) {
         e.event_types = {"ok", "no!"};
       }},
      {"zero timeout", "timeout", [](Endpoint& e) { e.timeout = absl::ZeroDuration(); }},
      {"short timeout", "timeout", [](Endpoint& e) { e.timeout = absl::Milliseconds(999); }},
      {"long timeout", "timeout", [](Endpoint& e) { e.timeout = absl::Seconds(61); }},
      {"negative timeout", "timeout", [](Endpoint& e) { e.timeout = absl::Seconds(-1); }},
      {"negative interval", "minInterval",
       [](Endpoint& e) { e.min_interval = absl::Milliseconds(-1); }},
      {"long interval", "minInterval",
       [](Endpoint& e) { e.min_interval = absl::Hours(1) + absl::Milliseconds(1); }},
      {"secret not base64", "secret", [](Endpoint& e) { e.secret = "whsec_!!!!"; }},
      {"secret too short", "secret",
       [](Endpoint& e) { e.secret = "whsec_AAAAAAAAAAAAAAAAAAAAAA=="; }},  // 16 bytes
      {"secret unpadded", "secret",
       [](Endpoint& e) { e.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Endpoint e = Spec("/hook");
    c.change(e);
    Result<Endpoint> r = dispatcher_->CreateEndpoint(e);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    EXPECT_THAT(Message(r.status()), StartsWith(c.field + ":"));
  }
  Result<std::vector<Endpoint>> all = dispatcher_->ListEndpoints();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  EXPECT_EQ(Count("webhook_endpoints"), 0);
}

TEST_F(DispatcherTest, NonPublicHostsAreRefusedAtCreateUnlessAllowed) {
  const std::vector<std::string> refused = {
      "http://127.0.0.1/x",
      "http://127.0.0.1:8080/x",
      "http://localhost/x",
      "http://LOCALHOST:80/x",
      "http://api.localhost/x",
      "http://[::1]/x",
      "http://[::1]:8080/x",
      "http://169.254.169.254/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/",
      "http://172.16.0.1/",
      "http://192.168.1.1/",
      "http://100.64.0.1/",
      "http://0.0.0.0/",
      "http://[::]/",
      "http://[fc00::1]/",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://224.0.0.1/",
      "https://user:pass@127.0.0.1/x",
      "https://example.com@127.0.0.1/x",
      "http://127.0.0.1#@example.com/",
      "http://127.0.0.1?@example.com/",
  };
  // Allowed here (the fixture's options): they are saved.
  for (const std::string& url : refused) {
    Endpoint e = Spec("/x");
    e.url = url;
    EXPECT_TRUE(dispatcher_->CreateEndpoint(e).ok()) << url;
  }

  DispatcherOptions strict;
  strict.allow_private_addresses = false;
  ASSERT_NO_FATAL_FAILURE(Restart(strict));
  const int64_t before = Count("webhook_endpoints");
  for (const std::string& url : refused) {
    Endpoint e = Spec("/x");
    e.url = url;
    Result<Endpoint> r = dispatcher_->CreateEndpoint(e);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << url << " " << r.status();
    EXPECT_THAT(Message(r.status()), HasSubstr("not a public address")) << url;
  }
  EXPECT_EQ(Count("webhook_endpoints"), before);

  for (const std::string url :
       {"https://example.com/hook", "http://93.184.216.34/x", "https://[2606:4700:4700::1111]/",
        "https://127.0.0.1.example.com/x"}) {
    Endpoint e = Spec("/x");
    e.url = url;
    Result<Endpoint> r = dispatcher_->CreateEndpoint(e);
    EXPECT_TRUE(r.ok()) << url << " " << r.status();
  }
}

TEST_F(DispatcherTest, UpdateEndpointReplacesTheFieldsButKeepsTheSecret) {
  const Endpoint e = Create(Spec("/a", {"ticket.created"}));
  clock_.Advance(absl::Minutes(1));
  Endpoint changed = e;
  changed.url = StrCat(server_.url(), "/b");
  changed.description = "moved";
  changed.event_types = {"b.*", "a", "a"};
  changed.min_interval = absl::Seconds(1);
  changed.timeout = absl::Seconds(5);
  changed.secret = std::string(kKnownSecret);  // ignored: RotateSecret changes it
  changed.created_at = absl::UnixEpoch();      // ignored
  Result<Endpoint> u = dispatcher_->UpdateEndpoint(changed);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->secret, e.secret);
  EXPECT_EQ(u->event_types, (std::vector<std::string>{"a", "b.*"}));
  EXPECT_EQ(u->created_at, e.created_at);
  EXPECT_EQ(u->updated_at, clock_.Now());

  const Endpoint got = GetEndpoint(e.id);
  EXPECT_EQ(got.url, changed.url);
  EXPECT_EQ(got.description, "moved");
  EXPECT_EQ(got.event_types, (std::vector<std::string>{"a", "b.*"}));
  EXPECT_EQ(got.min_interval, absl::Seconds(1));
  EXPECT_EQ(got.timeout, absl::Seconds(5));
  EXPECT_EQ(got.secret, e.secret);
  EXPECT_EQ(got.created_at, e.created_at);
  EXPECT_EQ(got.updated_at, clock_.Now());
  EXPECT_TRUE(got.enabled);

  // A bad field: InvalidArgument and nothing changes.
  Endpoint bad = got;
  bad.timeout = absl::ZeroDuration();
  bad.description = "not saved";
  EXPECT_TRUE(absl::IsInvalidArgument(dispatcher_->UpdateEndpoint(bad).status()));
  bad = got;
  bad.url = "ftp://example.com/";
  EXPECT_TRUE(absl::IsInvalidArgument(dispatcher_->UpdateEndpoint(bad).status()));
  EXPECT_EQ(GetEndpoint(e.id).description, "moved");
  EXPECT_EQ(GetEndpoint(e.id).url, changed.url);

  // An unknown id.
  Endpoint unknown = Spec("/c");
  unknown.id = "ep_unknown";
  EXPECT_TRUE(absl::IsNotFound(dispatcher_->UpdateEndpoint(unknown).status()));
}

TEST_F(DispatcherTest, DisablingKeepsTheFailureAndReEnablingClearsIt) {
  server_.SetDefault(FakeResponse{.status = 500});
  const Endpoint e = Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  const absl::Time t0 = clock_.Now();
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetEndpoint(e.id).failing_since, t0);

  Endpoint off = GetEndpoint(e.id);
  off.enabled = false;
  Result<Endpoint> u = dispatcher_->UpdateEndpoint(off);
  ASSERT_TRUE(u.ok()) << u.status();
  Endpoint got = GetEndpoint(e.id);
  EXPECT_FALSE(got.enabled);
  EXPECT_EQ(got.disabled_reason, "disabled by a user");
  EXPECT_EQ(got.failing_since, t0);
  // Disabled: it gets nothing new, and its pending retry fails without a request.
  EXPECT_TRUE(Publish(Event("ticket.created")).delivery_ids.empty());
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(server_.request_count(), 1u);
  const Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_THAT(d.last_error, HasSubstr("endpoint disabled"));
  EXPECT_THAT(d.last_error, HasSubstr("disabled by a user"));

  got.enabled = true;
  ASSERT_TRUE(dispatcher_->UpdateEndpoint(got).ok());
  got = GetEndpoint(e.id);
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.disabled_reason, "");
  EXPECT_FALSE(got.failing_since.has_value());
  EXPECT_EQ(Publish(Event("ticket.created")).delivery_ids.size(), 1u);
}

TEST_F(DispatcherTest, RotateSecretChangesTheSigningKey) {
  const Endpoint e = Create(Spec("/hook"));
  clock_.Advance(absl::Seconds(3));
  Result<Endpoint> r = dispatcher_->RotateSecret(e.id);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->secret, e.secret);
  EXPECT_THAT(r->secret, StartsWith("whsec_"));
  EXPECT_TRUE(DecodeStandardSecret(r->secret).ok());
  EXPECT_EQ(r->updated_at, clock_.Now());
  EXPECT_EQ(GetEndpoint(e.id).secret, r->secret);

  Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  const std::vector<FakeRequest> requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(SignedWith(requests[0], r->secret, clock_.Now()));
  EXPECT_FALSE(SignedWith(requests[0], e.secret, clock_.Now()));

  EXPECT_TRUE(absl::IsNotFound(dispatcher_->RotateSecret("ep_unknown").status()));
}

TEST_F(DispatcherTest, DeleteEndpointStopsItsDeliveries) {
  const Endpoint e = Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  ASSERT_EQ(p.delivery_ids.size(), 1u);
  ASSERT_TRUE(dispatcher_->DeleteEndpoint(e.id).ok());

  EXPECT_TRUE(absl::IsNotFound(dispatcher_->GetEndpoint(e.id).status()));
  EXPECT_TRUE(absl::IsNotFound(dispatcher_->DeleteEndpoint(e.id)));
  EXPECT_TRUE(absl::IsNotFound(dispatcher_->RotateSecret(e.id).status()));
  EXPECT_TRUE(absl::IsNotFound(dispatcher_->UpdateEndpoint(e).status()));
  Result<std::vector<Endpoint>> all = dispatcher_->ListEndpoints();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());

  // The pending delivery is failed at once, and its job sends nothing.
  Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.last_error, "endpoint deleted");
  EXPECT_FALSE(d.next_attempt_at.has_value());
  engine_->RunDue();
  EXPECT_EQ(server_.request_count(), 0u);
  EXPECT_TRUE(absl::IsNotFound(dispatcher_->Redeliver(d.id).status()));
  EXPECT_TRUE(Publish(Event("ticket.created")).delivery_ids.empty());
}

// --- publishing -------------------------------------------------------------------------------

TEST_F(DispatcherTest, PublishGoesToSubscribedEnabledEndpointsOnly) {
  const Endpoint exact = Create(Spec("/exact", {"ticket.created"}));
  const Endpoint prefix = Create(Spec("/prefix", {"maintenance.*"}));
  const Endpoint star = Create(Spec("/star", {"*"}));
  const Endpoint all = Create(Spec("/all"));
  const Endpoint other = Create(Spec("/other", {"ticket.updated", "billing.*"}));
  Endpoint disabled = Create(Spec("/disabled"));
  disabled.enabled = false;
  ASSERT_TRUE(dispatcher_->UpdateEndpoint(disabled).ok());

  const std::map<std::string, std::set<std::string>> expected = {
      {"ticket.created", {exact.id, star.id, all.id}},
      {"maintenance.started", {prefix.id, star.id, all.id}},
      {"maintenance.window.opened", {prefix.id, star.id, all.id}},
      {"maintenance", {star.id, all.id}},
      {"maintenanceX.started", {star.id, all.id}},
      {"ticket.created.v2", {star.id, all.id}},
      {"ticket.updated", {other.id, star.id, all.id}},
  };
  std::map<std::string, std::string> delivery_endpoint;
  for (const auto& [type, endpoints] : expected) {
    SCOPED_TRACE(type);
    const PublishResult p = Publish(Event(type));
    EXPECT_FALSE(p.deduplicated);
    EXPECT_THAT(p.message_id, StartsWith("msg_"));
    std::set<std::string> got;
    for (const std::string& id : p.delivery_ids) {
      EXPECT_THAT(id, StartsWith("dlv_"));
      const Delivery d = GetDelivery(id);
      EXPECT_EQ(d.message_id, p.message_id);
      EXPECT_EQ(d.event_type, type);
      EXPECT_EQ(d.status, DeliveryStatus::kPending);
      EXPECT_EQ(d.attempts, 0);
      got.insert(d.endpoint_id);
      delivery_endpoint[id] = d.endpoint_id;
    }
    EXPECT_EQ(got, endpoints);
  }

  // One POST per delivery, to its endpoint's URL, and none to the disabled endpoint.
  EXPECT_EQ(engine_->RunDue(), static_cast<int>(delivery_endpoint.size()));
  const std::vector<FakeRequest> requests = server_.requests();
  EXPECT_EQ(requests.size(), delivery_endpoint.size());
  const std::map<std::string, std::string> path_of = {
      {exact.id, "/exact"}, {prefix.id, "/prefix"}, {star.id, "/star"},
      {all.id, "/all"},     {other.id, "/other"},
  };
  std::set<std::string> seen;
  for (const FakeRequest& r : requests) {
    EXPECT_EQ(r.method, "POST");
    const std::string id = r.Header("webhook-id");
    ASSERT_TRUE(delivery_endpoint.contains(id)) << id;
    EXPECT_TRUE(seen.insert(id).second) << "sent twice: " << id;
    EXPECT_EQ(r.Path(), path_of.at(delivery_endpoint[id]));
  }
  EXPECT_TRUE(RequestsTo("/disabled").empty());
  for (const Delivery& d : ListDeliveries()) EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
}

TEST_F(DispatcherTest, ADeliveryIsOneSignedPostOfTheDocumentedBody) {
  const Endpoint e = Create(Spec("/hook?source=herald"));
  clock_.Advance(absl::Milliseconds(1500));
  const absl::Time published = clock_.Now();
  // Spaces, key order, UTF-8 and escapes: the payload is sent byte for byte.
  const std::string payload =
      "{ \"z\": 1, \"a\": [1, 2.50, true], \"name\": \"Ren\xc3\xa9\", \"s\": \"a\\\"b\\n\" }";
  const PublishResult p = Publish(Event("ticket.created", payload));
  ASSERT_EQ(p.delivery_ids.size(), 1u);
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(engine_->RunDue(), 1);

  const std::vector<FakeRequest> requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const FakeRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/hook?source=herald");
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.body, StrCat(R"({"type":"ticket.created","timestamp":")",
                           absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", published, absl::UTCTimeZone()),
                           R"(","data":)", payload, "}"));
  EXPECT_EQ(r.body, StrCat(R"({"type":"ticket.created","timestamp":"2026-01-01T00:00:01.500Z",)",
                           R"("data":)", payload, "}"));
  EXPECT_EQ(r.Header("webhook-id"), p.delivery_ids[0]);
  // The attempt's time, not the message's.
  EXPECT_EQ(r.Header("webhook-timestamp"), StrCat(absl::ToUnixSeconds(clock_.Now())));
  EXPECT_THAT(r.Header("webhook-signature"), StartsWith("v1,"));
  EXPECT_TRUE(SignedWith(r, e.secret, clock_.Now()));
  // The signature is over this exact body.
  FakeRequest tampered = r;
  tampered.body.back() = ' ';
  EXPECT_FALSE(SignedWith(tampered, e.secret, clock_.Now()));
  // The whole body is JSON, with the payload as "data".
  boost::system::error_code ec;
  const json::value v = json::parse(r.body, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(v.at("data").at("name").as_string(), "Ren\xc3\xa9");

  const Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_status_code, 200);
  EXPECT_EQ(d.last_error, "");
  EXPECT_FALSE(d.next_attempt_at.has_value());
  EXPECT_EQ(d.created_at, published);
  ASSERT_EQ(d.attempt_log.size(), 1u);
  EXPECT_EQ(d.attempt_log[0].number, 1);
  EXPECT_EQ(d.attempt_log[0].at, clock_.Now());
  EXPECT_EQ(d.attempt_log[0].status_code, 200);
  EXPECT_EQ(d.attempt_log[0].error, "");
  EXPECT_EQ(d.attempt_log[0].response_body, "{}");
}

TEST_F(DispatcherTest, TheOfficialStandardWebhooksPackageAcceptsOurDeliveries) {
  ASSERT_TRUE(PeersInstalled({"standardwebhooks"}));
  // The package checks the timestamp against the real clock.
  clock_.Set(absl::Now());
  const Endpoint e = Create(Spec("/hook"));
  Publish(Event("ticket.created", R"({"id":"t_1","name":"Ren)"
                                  "\xc3\xa9"
                                  R"(","amount":"12 )"
                                  "\xe2\x82\xac"
                                  R"("})"));
  Publish(Event("maintenance.started", "{\n  \"note\": \"line one\\nline two\"\n}"));
  EXPECT_EQ(engine_->RunDue(), 2);
  const std::vector<FakeRequest> requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);

  std::vector<json::object> cases;
  for (const FakeRequest& r : requests) {
    json::object c;
    c["scheme"] = "standard";
    c["payload"] = r.body;
    c["secret"] = e.secret;
    c["id"] = r.Header("webhook-id");
    c["timestamp"] = r.Header("webhook-timestamp");
    c["signature"] = r.Header("webhook-signature");
    cases.push_back(std::move(c));
  }
  NodeRun run = RunSignJs("verify", cases);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  std::vector<json::object> results = JsonLines(run.out);
  ASSERT_EQ(results.size(), cases.size()) << run.out << run.err;
  for (size_t i = 0; i < results.size(); ++i) {
    const json::value* ok = results[i].if_contains("ok");
    EXPECT_TRUE(ok != nullptr && ok->is_bool() && ok->as_bool())
        << json::serialize(cases[i]) << " -> " << json::serialize(results[i]);
  }

  // A control: the package does refuse a changed body or another secret.
  Result<std::string> another = NewStandardSecret();
  ASSERT_TRUE(another.ok());
  cases[0]["payload"] = std::string(requests[0].body) + " ";
  cases[1]["secret"] = *another;
  run = RunSignJs("verify", cases);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  results = JsonLines(run.out);
  ASSERT_EQ(results.size(), cases.size()) << run.out << run.err;
  for (const json::object& r : results) {
    const json::value* ok = r.if_contains("ok");
    EXPECT_TRUE(ok != nullptr && ok->is_bool() && !ok->as_bool()) << json::serialize(r);
  }
}

TEST_F(DispatcherTest, PublishInTheCallersTransactionCommitsOrRollsBackWithIt) {
  ASSERT_TRUE(store_->Migrate("dispatcher_test", kCallerMigrations).ok());
  Create(Spec("/hook"));
  OutboundEvent event = Event("ticket.created");
  event.dedupe_key = "order-1";
  event.dedupe_window = absl::Hours(1);

  PublishResult inside;
  Status s = store_->Write([&](store::Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO caller_rows (note) VALUES ('rolled back')").status());
    HERALD_ASSIGN_OR_RETURN(inside, dispatcher_->Publish(txn, event));
    return absl::FailedPreconditionError("the caller changed its mind");
  });
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  ASSERT_EQ(inside.delivery_ids.size(), 1u);
  EXPECT_TRUE(ListDeliveries().empty());
  EXPECT_TRUE(absl::IsNotFound(dispatcher_->GetDelivery(inside.delivery_ids[0]).status()));
  EXPECT_EQ(Count("webhook_messages"), 0);
  EXPECT_EQ(Count("webhook_deliveries"), 0);
  EXPECT_EQ(Count("webhook_dedupe"), 0);
  EXPECT_EQ(Count("caller_rows"), 0);
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(server_.request_count(), 0u);

  // Committed: everything is there, and the dedupe key was not taken by the rolled-back try.
  s = store_->Write([&](store::Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(txn.Exec("INSERT INTO caller_rows (note) VALUES ('kept')").status());
    HERALD_ASSIGN_OR_RETURN(inside, dispatcher_->Publish(txn, event));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(inside.deduplicated);
  ASSERT_EQ(inside.delivery_ids.size(), 1u);
  EXPECT_EQ(Count("caller_rows"), 1);
  EXPECT_EQ(ListDeliveries().size(), 1u);
  EXPECT_EQ(engine_->RunDue(), 1);
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].Header("webhook-id"), inside.delivery_ids[0]);
}

TEST_F(DispatcherTest, PublishRefusesBadEventsAndStoresNothing) {
  Create(Spec("/hook"));
  const std::string big_value(256 * 1024 - 8, 'x');  // {"a":"<value>"} is 8 bytes more
  struct Case {
    std::string what;
    std::string field;
    OutboundEvent event;
  };
  auto with = [](std::function<void(OutboundEvent&)> change) {
    OutboundEvent e = Event("ticket.created");
    change(e);
    return e;
  };
  const std::vector<Case> cases = {
      {"empty type", "type", with([](OutboundEvent& e) { e.type = ""; })},
      {"space", "type", with([](OutboundEvent& e) { e.type = "ticket created"; })},
      {"slash", "type", with([](OutboundEvent& e) { e.type = "a/b"; })},
      {"star", "type", with([](OutboundEvent& e) { e.type = "ticket.*"; })},
      {"non-ASCII", "type", with([](OutboundEvent& e) { e.type = "caf\xc3\xa9"; })},
      {"129 characters", "type", with([](OutboundEvent& e) { e.type = std::string(129, 't'); })},
      {"array", "data", with([](OutboundEvent& e) { e.payload_json = "[1]"; })},
      {"string", "data", with([](OutboundEvent& e) { e.payload_json = R"("s")"; })},
      {"null", "data", with([](OutboundEvent& e) { e.payload_json = "null"; })},
      {"empty", "data", with([](OutboundEvent& e) { e.payload_json = ""; })},
      {"truncated", "data", with([](OutboundEvent& e) { e.payload_json = R"({"a":)"; })},
      {"trailing garbage", "data", with([](OutboundEvent& e) { e.payload_json = "{} x"; })},
      {"two objects", "data", with([](OutboundEvent& e) { e.payload_json = "{}{}"; })},
      {"over 256 KiB", "data",
       with([&](OutboundEvent& e) { e.payload_json = StrCat(R"({"a":")", big_value, "x\"}"); })},
      {"dedupe key without window", "dedupeWindow",
       with([](OutboundEvent& e) { e.dedupe_key = "k"; })},
      {"negative window", "dedupeWindow", with([](OutboundEvent& e) {
         e.dedupe_key = "k";
         e.dedupe_window = absl::Seconds(-1);
       })},
      {"window over 366 days", "dedupeWindow", with([](OutboundEvent& e) {
         e.dedupe_key = "k";
         e.dedupe_window = absl::Hours(24 * 366) + absl::Seconds(1);
       })},
      {"long dedupe key", "dedupeKey", with([](OutboundEvent& e) {
         e.dedupe_key = std::string(257, 'k');
         e.dedupe_window = absl::Hours(1);
       })},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Result<PublishResult> r = dispatcher_->Publish(c.event);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    EXPECT_THAT(Message(r.status()), StartsWith(c.field + ":"));
    // In the caller's transaction too; the caller sees the error and can roll back.
    Status s =
        store_->Write([&](store::Txn& txn) { return dispatcher_->Publish(txn, c.event).status(); });
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  }
  EXPECT_EQ(Count("webhook_messages"), 0);
  EXPECT_EQ(Count("webhook_deliveries"), 0);
  EXPECT_EQ(Count("webhook_dedupe"), 0);
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(server_.request_count(), 0u);

  // The limits themselves are accepted.
  OutboundEvent edge = Event(std::string(128, 't'), StrCat(R"({"a":")", big_value, "\"}"));
  ASSERT_EQ(edge.payload_json.size(), 256u * 1024u);
  edge.dedupe_key = std::string(256, 'k');
  edge.dedupe_window = absl::Hours(24 * 366);
  const PublishResult p = Publish(edge);
  EXPECT_EQ(p.delivery_ids.size(), 1u);
  EXPECT_EQ(Publish(Event("A-z_0.9")).delivery_ids.size(), 1u);
  EXPECT_EQ(Count("webhook_messages"), 2);
}

// --- retries ----------------------------------------------------------------------------------

TEST_F(DispatcherTest, AFailedAttemptIsRetriedAfterFiveSecondsWithJitter) {
  server_.Enqueue(FakeResponse{.status = 500, .body = "oops"});
  Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  const absl::Time t0 = clock_.Now();
  EXPECT_EQ(engine_->RunDue(), 1);

  Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.last_status_code, 500);
  EXPECT_EQ(d.last_error, "HTTP 500");
  ASSERT_TRUE(d.next_attempt_at.has_value());
  EXPECT_GE(*d.next_attempt_at, t0 + absl::Seconds(4));
  EXPECT_LE(*d.next_attempt_at, t0 + absl::Seconds(6));
  const absl::Time next = *d.next_attempt_at;

  // Nothing runs before it.
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Set(next - absl::Milliseconds(1));
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(server_.request_count(), 1u);

  clock_.Set(next + absl::Milliseconds(1));
  const absl::Time t1 = clock_.Now();
  EXPECT_EQ(engine_->RunDue(), 1);
  d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.last_status_code, 200);
  EXPECT_EQ(d.last_error, "");
  EXPECT_FALSE(d.next_attempt_at.has_value());
  ASSERT_EQ(d.attempt_log.size(), 2u);
  EXPECT_EQ(d.attempt_log[0].number, 1);
  EXPECT_EQ(d.attempt_log[0].at, t0);
  EXPECT_EQ(d.attempt_log[0].status_code, 500);
  EXPECT_EQ(d.attempt_log[0].error, "HTTP 500");
  EXPECT_EQ(d.attempt_log[0].response_body, "oops");
  EXPECT_EQ(d.attempt_log[1].number, 2);
  EXPECT_EQ(d.attempt_log[1].at, t1);
  EXPECT_EQ(d.attempt_log[1].status_code, 200);
  EXPECT_EQ(d.attempt_log[1].error, "");

  // The same webhook-id on both attempts, each with its own timestamp.
  const std::vector<FakeRequest> requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("webhook-id"), p.delivery_ids[0]);
  EXPECT_EQ(requests[1].Header("webhook-id"), p.delivery_ids[0]);
  EXPECT_EQ(requests[0].Header("webhook-timestamp"), StrCat(absl::ToUnixSeconds(t0)));
  EXPECT_EQ(requests[1].Header("webhook-timestamp"), StrCat(absl::ToUnixSeconds(t1)));
  EXPECT_EQ(requests[0].body, requests[1].body);

  clock_.Advance(absl::Hours(48));
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(server_.request_count(), 2u);
}

TEST_F(DispatcherTest, RetriesFollowTheScheduleThenTheDeliveryFails) {
  server_.SetDefault(FakeResponse{.status = 502});
  const Endpoint e = Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  const absl::Time start = clock_.Now();
  EXPECT_EQ(engine_->RunDue(), 1);
  for (size_t i = 0; i < std::size(kRetrySchedule); ++i) {
    SCOPED_TRACE(StrCat("after attempt ", i + 1));
    const Delivery d = GetDelivery(p.delivery_ids[0]);
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.attempts, static_cast<int>(i) + 1);
    ASSERT_TRUE(d.next_attempt_at.has_value());
    const absl::Duration wait = *d.next_attempt_at - clock_.Now();
    EXPECT_GE(wait, kRetrySchedule[i] * 0.8 - absl::Microseconds(1));
    EXPECT_LE(wait, kRetrySchedule[i] * 1.2);
    clock_.Set(*d.next_attempt_at - absl::Milliseconds(1));
    EXPECT_EQ(engine_->RunDue(), 0);
    clock_.Set(*d.next_attempt_at);
    EXPECT_EQ(engine_->RunDue(), 1);
  }
  const Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.attempts, 10);
  EXPECT_EQ(d.last_status_code, 502);
  EXPECT_THAT(d.last_error, HasSubstr("no attempts left"));
  EXPECT_FALSE(d.next_attempt_at.has_value());
  EXPECT_EQ(d.attempt_log.size(), 10u);
  EXPECT_EQ(server_.request_count(), 10u);
  // About three days, within the default five before an endpoint is disabled.
  EXPECT_LT(clock_.Now() - start, absl::Hours(24 * 4));
  EXPECT_TRUE(GetEndpoint(e.id).enabled);
  clock_.Advance(absl::Hours(24 * 7));
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(server_.request_count(), 10u);
}

TEST_F(DispatcherTest, ExhaustingAllTenAttemptsFailsTheDelivery) {
  // Steps of 29 hours: the longest wait is 24 h + 20 % jitter = 28.8 h. Nine of them take
  // longer than the default five days before an endpoint is disabled.
  DispatcherOptions o = options_;
  o.disable_after = absl::Hours(24 * 30);
  ASSERT_NO_FATAL_FAILURE(Restart(o));
  server_.SetDefault(FakeResponse{.status = 500});
  const Endpoint e = Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  for (int attempt = 1; attempt <= 10; ++attempt) {
    SCOPED_TRACE(attempt);
    EXPECT_EQ(engine_->RunDue(), 1);
    const Delivery d = GetDelivery(p.delivery_ids[0]);
    EXPECT_EQ(d.attempts, attempt);
    EXPECT_EQ(d.status, attempt < 10 ? DeliveryStatus::kPending : DeliveryStatus::kFailed);
    EXPECT_EQ(d.next_attempt_at.has_value(), attempt < 10);
    clock_.Advance(absl::Hours(29));
  }
  const Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.last_error, "HTTP 500; no attempts left");
  ASSERT_EQ(d.attempt_log.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(d.attempt_log[i].number, i + 1);
    EXPECT_EQ(d.attempt_log[i].status_code, 500);
    EXPECT_EQ(d.attempt_log[i].error, "HTTP 500");
  }
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(server_.request_count(), 10u);
  EXPECT_TRUE(GetEndpoint(e.id).enabled);
  DeliveryFilter failed;
  failed.status = DeliveryStatus::kFailed;
  EXPECT_EQ(ListDeliveries(failed).size(), 1u);
}

TEST_F(DispatcherTest, TransportFailuresAndTimeoutsAreRetried) {
  server_.Enqueue(FakeResponse{.close_without_response = true});
  // Slower than the endpoint's timeout (real time: curl waits for it).
  server_.Enqueue(FakeResponse{.delay = std::chrono::milliseconds(2500)});
  server_.Enqueue(FakeResponse{.status = 500, .body = std::string(3000, 'b')});
  Endpoint spec = Spec("/hook");
  spec.timeout = absl::Seconds(1);
  Create(spec);
  const PublishResult p = Publish(Event("ticket.created"));

  EXPECT_EQ(engine_->RunDue(), 1);
  Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_EQ(d.last_status_code, 0);
  EXPECT_NE(d.last_error, "");

  clock_.Advance(absl::Seconds(7));
  EXPECT_EQ(engine_->RunDue(), 1);
  d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.last_status_code, 0);
  EXPECT_EQ(d.last_error, "timeout after 1s");

  clock_.Advance(absl::Minutes(7));
  EXPECT_EQ(engine_->RunDue(), 1);
  d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.last_status_code, 500);
  ASSERT_EQ(d.attempt_log.size(), 3u);
  EXPECT_EQ(d.attempt_log[0].status_code, 0);
  EXPECT_NE(d.attempt_log[0].error, "");
  EXPECT_EQ(d.attempt_log[1].error, "timeout after 1s");
  // Only the first KiB of a response body is kept.
  EXPECT_EQ(d.attempt_log[2].response_body, std::string(1024, 'b'));

  clock_.Advance(absl::Minutes(37));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kSucceeded);
}

TEST_F(DispatcherTest, RetryAfterIsHonouredOn429And503Only) {
  Create(Spec("/hook"));
  const absl::Time now = clock_.Now();
  struct Case {
    std::string what;
    int status;
    std::string retry_after;
    absl::Duration min, max;  // of the wait before the next attempt
  };
  const std::vector<Case> cases = {
      {"429 seconds", 429, "120", absl::Seconds(120), absl::Seconds(120)},
      {"503 seconds", 503, "3600", absl::Hours(1), absl::Hours(1)},
      {"503 HTTP date", 503, HttpDate(now + absl::Minutes(90)), absl::Minutes(90),
       absl::Minutes(90)},
      {"429 HTTP date", 429, HttpDate(now + absl::Seconds(30)), absl::Seconds(30),
       absl::Seconds(30)},
      {"capped at one day", 429, "999999", absl::Hours(24), absl::Hours(24)},
      {"huge", 503, "99999999999999999999", absl::Hours(24), absl::Hours(24)},
      {"date capped", 503, HttpDate(now + absl::Hours(24 * 10)), absl::Hours(24), absl::Hours(24)},
      {"shorter than the schedule", 429, "1", absl::Seconds(4), absl::Seconds(6)},
      {"zero", 429, "0", absl::Seconds(4), absl::Seconds(6)},
      {"date in the past", 503, HttpDate(now - absl::Hours(1)), absl::Seconds(4), absl::Seconds(6)},
      {"unreadable", 503, "soon", absl::Seconds(4), absl::Seconds(6)},
      {"negative", 429, "-5", absl::Seconds(4), absl::Seconds(6)},
      {"ignored on 500", 500, "120", absl::Seconds(4), absl::Seconds(6)},
      {"ignored on 502", 502, "120", absl::Seconds(4), absl::Seconds(6)},
      {"ignored on 404", 404, "120", absl::Seconds(4), absl::Seconds(6)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    server_.Enqueue(FakeResponse{.status = c.status, .headers = {{"Retry-After", c.retry_after}}});
    const PublishResult p = Publish(Event("ticket.created"));
    ASSERT_EQ(engine_->RunDue(), 1);
    const Delivery d = GetDelivery(p.delivery_ids[0]);
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.last_status_code, c.status);
    ASSERT_TRUE(d.next_attempt_at.has_value());
    EXPECT_GE(*d.next_attempt_at - now, c.min);
    EXPECT_LE(*d.next_attempt_at - now, c.max);
  }
}

TEST_F(DispatcherTest, NoAttemptBeforeRetryAfter) {
  Create(Spec("/hook"));
  const absl::Time t0 = clock_.Now();
  server_.Enqueue(FakeResponse{.status = 429, .headers = {{"Retry-After", "120"}}});
  const PublishResult a = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  server_.Enqueue(
      FakeResponse{.status = 503, .headers = {{"Retry-After", HttpDate(t0 + absl::Minutes(10))}}});
  const PublishResult b = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);

  clock_.Set(t0 + absl::Seconds(119));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Set(t0 + absl::Seconds(120));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetDelivery(a.delivery_ids[0]).status, DeliveryStatus::kSucceeded);
  clock_.Set(t0 + absl::Minutes(10) - absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Set(t0 + absl::Minutes(10));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetDelivery(b.delivery_ids[0]).status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(server_.request_count(), 4u);
}

TEST_F(DispatcherTest, GoneDisablesTheEndpointAndFailsTheDelivery) {
  server_.Enqueue(FakeResponse{.status = 410, .body = "bye"});
  const Endpoint e = Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);

  const Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.last_status_code, 410);
  EXPECT_THAT(d.last_error, HasSubstr("410"));
  EXPECT_FALSE(d.next_attempt_at.has_value());
  const Endpoint got = GetEndpoint(e.id);
  EXPECT_FALSE(got.enabled);
  EXPECT_THAT(got.disabled_reason, HasSubstr("410"));

  // Later publications skip it; nothing is retried.
  EXPECT_TRUE(Publish(Event("ticket.created")).delivery_ids.empty());
  clock_.Advance(absl::Hours(48));
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(server_.request_count(), 1u);

  Result<Delivery> r = dispatcher_->Redeliver(d.id);
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(GetDelivery(d.id).status, DeliveryStatus::kFailed);
}

TEST_F(DispatcherTest, RedirectsAreFailuresAndNotFollowed) {
  server_.Enqueue(
      FakeResponse{.status = 302, .headers = {{"Location", StrCat(server_.url(), "/elsewhere")}}});
  Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].Path(), "/hook");
  Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_EQ(d.last_status_code, 302);
  EXPECT_THAT(d.last_error, HasSubstr("redirect"));

  clock_.Advance(absl::Seconds(7));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_TRUE(RequestsTo("/elsewhere").empty());
  EXPECT_EQ(RequestsTo("/hook").size(), 2u);
  EXPECT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kSucceeded);
}

// --- endpoint health --------------------------------------------------------------------------

TEST_F(DispatcherTest, AnEndpointFailingForDisableAfterIsDisabled) {
  DispatcherOptions o = options_;
  o.disable_after = absl::Hours(1);
  ASSERT_NO_FATAL_FAILURE(Restart(o));
  server_.SetDefault(FakeResponse{.status = 500});
  const Endpoint e = Create(Spec("/hook"));
  const absl::Time t0 = clock_.Now();
  const PublishResult p1 = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetEndpoint(e.id).failing_since, t0);

  clock_.Advance(absl::Minutes(59));
  EXPECT_EQ(engine_->RunDue(), 1);  // the retry of p1
  Endpoint got = GetEndpoint(e.id);
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.failing_since, t0);

  clock_.Advance(absl::Minutes(2));  // p1's next retry is 4 to 6 minutes after the last
  const PublishResult p2 = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  got = GetEndpoint(e.id);
  EXPECT_FALSE(got.enabled);
  EXPECT_THAT(got.disabled_reason, HasSubstr("failing"));
  const Delivery d2 = GetDelivery(p2.delivery_ids[0]);
  EXPECT_EQ(d2.status, DeliveryStatus::kFailed);
  EXPECT_THAT(d2.last_error, HasSubstr("endpoint disabled"));
  EXPECT_EQ(server_.request_count(), 3u);

  // p1's scheduled retry now fails without a request; nothing new goes to the endpoint.
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(server_.request_count(), 3u);
  const Delivery d1 = GetDelivery(p1.delivery_ids[0]);
  EXPECT_EQ(d1.status, DeliveryStatus::kFailed);
  EXPECT_THAT(d1.last_error, HasSubstr("endpoint disabled"));
  EXPECT_EQ(d1.attempts, 2);
  EXPECT_TRUE(Publish(Event("ticket.created")).delivery_ids.empty());
}

TEST_F(DispatcherTest, ASuccessResetsFailingSince) {
  DispatcherOptions o = options_;
  o.disable_after = absl::Hours(1);
  ASSERT_NO_FATAL_FAILURE(Restart(o));
  server_.SetDefault(FakeResponse{.status = 500});
  const Endpoint e = Create(Spec("/hook"));
  const absl::Time t0 = clock_.Now();
  Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetEndpoint(e.id).failing_since, t0);

  clock_.Advance(absl::Minutes(30));
  server_.SetDefault(FakeResponse{.status = 204, .body = ""});
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_FALSE(GetEndpoint(e.id).failing_since.has_value());

  server_.SetDefault(FakeResponse{.status = 500});
  clock_.Advance(absl::Minutes(40));  // 70 minutes after the first failure
  const absl::Time t1 = clock_.Now();
  const PublishResult p = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  Endpoint got = GetEndpoint(e.id);
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.failing_since, t1);
  EXPECT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kPending);

  clock_.Advance(absl::Minutes(50));
  EXPECT_EQ(engine_->RunDue(), 1);
  got = GetEndpoint(e.id);
  EXPECT_TRUE(got.enabled);
  EXPECT_EQ(got.failing_since, t1);
}

// --- rate limit -------------------------------------------------------------------------------

TEST_F(DispatcherTest, MinIntervalSpacesRequestsToOneEndpointOnly) {
  Endpoint slow_spec = Spec("/slow");
  slow_spec.min_interval = absl::Milliseconds(200);
  const Endpoint slow = Create(slow_spec);
  Create(Spec("/fast"));  // unthrottled
  for (int i = 0; i < 3; ++i) Publish(Event("ticket.created"));

  EXPECT_EQ(engine_->RunDue(), 4);
  EXPECT_EQ(RequestsTo("/slow").size(), 1u);
  EXPECT_EQ(RequestsTo("/fast").size(), 3u);

  clock_.Advance(absl::Milliseconds(199));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(RequestsTo("/slow").size(), 2u);
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(RequestsTo("/slow").size(), 3u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 0);

  DeliveryFilter f;
  f.endpoint_id = slow.id;
  f.status = DeliveryStatus::kSucceeded;
  EXPECT_EQ(ListDeliveries(f).size(), 3u);
  std::set<std::string> ids;
  for (const FakeRequest& r : RequestsTo("/slow")) ids.insert(r.Header("webhook-id"));
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(DispatcherTest, UpdatingMinIntervalAppliesAtOnce) {
  Endpoint spec = Spec("/hook");
  spec.min_interval = absl::Minutes(1);
  const Endpoint e = Create(spec);
  for (int i = 0; i < 3; ++i) Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 0);

  Endpoint unthrottled = GetEndpoint(e.id);
  unthrottled.min_interval = absl::ZeroDuration();
  ASSERT_TRUE(dispatcher_->UpdateEndpoint(unthrottled).ok());
  EXPECT_EQ(engine_->RunDue(), 2);
  EXPECT_EQ(server_.request_count(), 3u);
}

TEST_F(DispatcherTest, MinIntervalIsAppliedAgainAfterARestart) {
  Endpoint spec = Spec("/hook");
  spec.min_interval = absl::Minutes(1);
  Create(spec);
  ASSERT_NO_FATAL_FAILURE(Restart(options_));
  for (int i = 0; i < 2; ++i) Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  clock_.Advance(absl::Seconds(59));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
}

// --- deduplication ----------------------------------------------------------------------------

TEST_F(DispatcherTest, ADedupeKeyPublishesOncePerWindow) {
  Create(Spec("/hook"));
  OutboundEvent event = Event("report.ready");
  event.dedupe_key = "k";
  event.dedupe_window = absl::Hours(24);

  const PublishResult first = Publish(event);
  EXPECT_FALSE(first.deduplicated);
  EXPECT_THAT(first.message_id, StartsWith("msg_"));
  EXPECT_EQ(first.dedupe_message_id, "");
  EXPECT_EQ(first.delivery_ids.size(), 1u);

  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  const PublishResult second = Publish(event);
  EXPECT_TRUE(second.deduplicated);
  EXPECT_EQ(second.message_id, "");
  EXPECT_EQ(second.dedupe_message_id, first.message_id);
  EXPECT_TRUE(second.delivery_ids.empty());
  // Another key, or none, is not affected.
  OutboundEvent other = event;
  other.dedupe_key = "k2";
  EXPECT_FALSE(Publish(other).deduplicated);
  EXPECT_FALSE(Publish(Event("report.ready")).deduplicated);
  // The key holds whatever the type and the window of a later event.
  OutboundEvent same_key = Event("other.type");
  same_key.dedupe_key = "k";
  same_key.dedupe_window = absl::Seconds(1);
  EXPECT_TRUE(Publish(same_key).deduplicated);

  clock_.Advance(absl::Seconds(1));  // the window of the first has passed
  const PublishResult third = Publish(event);
  EXPECT_FALSE(third.deduplicated);
  EXPECT_NE(third.message_id, first.message_id);
  EXPECT_EQ(third.delivery_ids.size(), 1u);
  const PublishResult fourth = Publish(event);
  EXPECT_TRUE(fourth.deduplicated);
  EXPECT_EQ(fourth.dedupe_message_id, third.message_id);

  EXPECT_EQ(Count("webhook_messages"), 4);
  EXPECT_EQ(engine_->RunDue(), 4);
  EXPECT_EQ(server_.request_count(), 4u);
}

TEST_F(DispatcherTest, ConcurrentPublishersOfOneDedupeKeyAgree) {
  Create(Spec("/hook"));
  OutboundEvent event = Event("report.ready");
  event.dedupe_key = "race";
  event.dedupe_window = absl::Hours(1);
  constexpr int kThreads = 8;
  constexpr int kEach = 5;
  std::vector<PublishResult> results(kThreads * kEach);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kEach; ++i) {
        Result<PublishResult> r = dispatcher_->Publish(event);
        EXPECT_TRUE(r.ok()) << r.status();
        if (r.ok()) results[t * kEach + i] = *r;
      }
    });
  }
  go.store(true);
  for (std::thread& t : threads) t.join();

  int winners = 0;
  std::string winner;
  for (const PublishResult& r : results) {
    if (!r.deduplicated) {
      ++winners;
      winner = r.message_id;
    }
  }
  EXPECT_EQ(winners, 1);
  for (const PublishResult& r : results) {
    if (r.deduplicated) {
      EXPECT_EQ(r.dedupe_message_id, winner);
    }
  }
  EXPECT_EQ(Count("webhook_messages"), 1);
  EXPECT_EQ(ListDeliveries().size(), 1u);
  EXPECT_EQ(engine_->RunDue(), 1);
}

TEST_F(DispatcherTest, DeduplicationHoldsAcrossARestart) {
  Create(Spec("/hook"));
  OutboundEvent event = Event("report.ready");
  event.dedupe_key = "r";
  event.dedupe_window = absl::Hours(1);
  const PublishResult first = Publish(event);
  ASSERT_FALSE(first.deduplicated);

  ASSERT_NO_FATAL_FAILURE(Restart(options_));
  clock_.Advance(absl::Minutes(30));
  const PublishResult again = Publish(event);
  EXPECT_TRUE(again.deduplicated);
  EXPECT_EQ(again.dedupe_message_id, first.message_id);
  // The first publication's delivery survived the restart too.
  EXPECT_EQ(engine_->RunDue(), 1);
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].Header("webhook-id"), first.delivery_ids[0]);

  clock_.Advance(absl::Minutes(30));
  const PublishResult later = Publish(event);
  EXPECT_FALSE(later.deduplicated);
  EXPECT_EQ(later.delivery_ids.size(), 1u);
}

// --- redelivery -------------------------------------------------------------------------------

TEST_F(DispatcherTest, RedeliverSendsASucceededDeliveryAgainWithTheSameId) {
  const Endpoint e = Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  ASSERT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kSucceeded);

  clock_.Advance(absl::Minutes(10));
  Result<Delivery> r = dispatcher_->Redeliver(p.delivery_ids[0]);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, DeliveryStatus::kPending);
  EXPECT_EQ(r->next_attempt_at, clock_.Now());
  EXPECT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kPending);
  EXPECT_EQ(engine_->RunDue(), 1);

  const std::vector<FakeRequest> requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].Header("webhook-id"), p.delivery_ids[0]);
  EXPECT_EQ(requests[1].Header("webhook-id"), requests[0].Header("webhook-id"));
  EXPECT_EQ(requests[1].Header("webhook-timestamp"), StrCat(absl::ToUnixSeconds(clock_.Now())));
  EXPECT_EQ(requests[1].body, requests[0].body);
  EXPECT_TRUE(SignedWith(requests[1], e.secret, clock_.Now()));
  const Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.attempt_log.size(), 2u);

  EXPECT_TRUE(absl::IsNotFound(dispatcher_->Redeliver("dlv_unknown").status()));
}

TEST_F(DispatcherTest, RedeliverMakesTheScheduledRetryStale) {
  server_.SetDefault(FakeResponse{.status = 500});
  Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);  // attempt 1 fails: a retry in about 5 s
  ASSERT_TRUE(dispatcher_->Redeliver(p.delivery_ids[0]).ok());
  EXPECT_EQ(engine_->RunDue(), 1);  // attempt 2, now; fails too: a retry in about 5 min
  Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  ASSERT_TRUE(d.next_attempt_at.has_value());
  EXPECT_GE(*d.next_attempt_at, clock_.Now() + absl::Minutes(4));

  // The retry scheduled by attempt 1 comes due: it is stale and sends nothing.
  clock_.Advance(absl::Seconds(7));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(server_.request_count(), 2u);
  d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);

  // The current one does.
  clock_.Advance(absl::Minutes(7));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(server_.request_count(), 3u);
  d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.attempts, 3);
  ASSERT_EQ(d.attempt_log.size(), 3u);
  EXPECT_EQ(d.attempt_log[2].number, 3);

  // Redelivered while a retry is scheduled: the retry, when it comes due, sends nothing.
  server_.SetDefault(FakeResponse{});
  ASSERT_TRUE(dispatcher_->Redeliver(p.delivery_ids[0]).ok());
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kSucceeded);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(server_.request_count(), 4u);
  d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.attempts, 4);
  EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
}

// --- SSRF at send time ------------------------------------------------------------------------

TEST_F(DispatcherTest, PrivateAddressesAreRefusedWhenSending) {
  // Saved while private addresses were allowed...
  const Endpoint literal = Create(Spec("/literal"));
  Endpoint named_spec = Spec("/named");
  named_spec.url = StrCat("http://localhost:", server_.port(), "/named");
  const Endpoint named = Create(named_spec);
  // ...then sent by a dispatcher that does not allow them.
  DispatcherOptions strict;
  strict.allow_private_addresses = false;
  ASSERT_NO_FATAL_FAILURE(Restart(strict));
  const PublishResult p = Publish(Event("ticket.created"));
  ASSERT_EQ(p.delivery_ids.size(), 2u);
  EXPECT_EQ(engine_->RunDue(), 2);
  EXPECT_EQ(server_.request_count(), 0u);
  EXPECT_EQ(server_.connections(), 0);
  for (const std::string& id : p.delivery_ids) {
    const Delivery d = GetDelivery(id);
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.attempts, 1);
    EXPECT_EQ(d.last_status_code, 0);
    EXPECT_THAT(d.last_error, HasSubstr("non-public address"));
    ASSERT_EQ(d.attempt_log.size(), 1u);
    EXPECT_THAT(d.attempt_log[0].error, HasSubstr("non-public address"));
  }
  // Saving them again is refused as well.
  EXPECT_TRUE(absl::IsInvalidArgument(dispatcher_->UpdateEndpoint(literal).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(dispatcher_->UpdateEndpoint(named).status()));
}

// --- overlapping attempts ---------------------------------------------------------------------
// With worker threads, attempts of one endpoint (or one delivery, after a redelivery) can be in
// flight together. Here one attempt is held open by a slow receiver, on a thread of its own,
// while another runs and finishes on the test's thread.

TEST_F(DispatcherTest, AFailureStartedBeforeASuccessDoesNotDisableTheEndpoint) {
  DispatcherOptions o = options_;
  o.disable_after = absl::Hours(1);
  ASSERT_NO_FATAL_FAILURE(Restart(o));
  const Endpoint e = Create(Spec("/hook"));
  server_.Enqueue(FakeResponse{.status = 500});
  const absl::Time t0 = clock_.Now();
  Publish(Event("ticket.created"));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(GetEndpoint(e.id).failing_since, t0);

  // 61 minutes later two attempts are due: the retry and a new delivery.
  clock_.Advance(absl::Minutes(61));
  Publish(Event("ticket.created"));
  server_.Enqueue(FakeResponse{.status = 500, .delay = std::chrono::milliseconds(1500)});
  server_.Enqueue(FakeResponse{.status = 200});
  std::thread slow([&] { EXPECT_EQ(engine_->RunDue(1), 1); });
  ASSERT_TRUE(AwaitRequests(2));
  EXPECT_EQ(engine_->RunDue(1), 1);  // the quick success
  EXPECT_FALSE(GetEndpoint(e.id).failing_since.has_value());
  slow.join();

  // The slow failure came after a success: the endpoint has not been failing for an hour.
  const Endpoint got = GetEndpoint(e.id);
  EXPECT_TRUE(got.enabled) << got.disabled_reason;
  EXPECT_EQ(got.failing_since, clock_.Now());
}

TEST_F(DispatcherTest, AnAttemptInFlightDuringARedeliveryDoesNotUndoIt) {
  Create(Spec("/hook"));
  const PublishResult p = Publish(Event("ticket.created"));
  server_.Enqueue(FakeResponse{.status = 500, .delay = std::chrono::milliseconds(1500)});
  server_.Enqueue(FakeResponse{.status = 200});
  std::thread slow([&] { EXPECT_EQ(engine_->RunDue(1), 1); });
  ASSERT_TRUE(AwaitRequests(1));
  ASSERT_TRUE(dispatcher_->Redeliver(p.delivery_ids[0]).ok());
  EXPECT_EQ(engine_->RunDue(1), 1);  // the redelivery, which succeeds
  EXPECT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kSucceeded);
  slow.join();

  // Both attempts are logged; the delivery stays succeeded and is not sent again.
  Delivery d = GetDelivery(p.delivery_ids[0]);
  EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(d.attempts, 2);
  ASSERT_EQ(d.attempt_log.size(), 2u);
  std::multiset<int> codes = {d.attempt_log[0].status_code, d.attempt_log[1].status_code};
  EXPECT_EQ(codes, (std::multiset<int>{200, 500}));
  EXPECT_NE(d.attempt_log[0].number, d.attempt_log[1].number);
  clock_.Advance(absl::Hours(48));
  engine_->RunDue();
  EXPECT_EQ(server_.request_count(), 2u);
  EXPECT_EQ(GetDelivery(p.delivery_ids[0]).status, DeliveryStatus::kSucceeded);
}

// --- listing ----------------------------------------------------------------------------------

TEST_F(DispatcherTest, ListDeliveriesFiltersAndPages) {
  const Endpoint a = Create(Spec("/a"));
  const Endpoint b = Create(Spec("/b"));
  std::set<std::string> all_ids;
  for (int i = 0; i < 3; ++i) {
    for (const std::string& id : Publish(Event(StrCat("type.", i))).delivery_ids) {
      all_ids.insert(id);
    }
    clock_.Advance(absl::Milliseconds(10));
  }
  ASSERT_EQ(all_ids.size(), 6u);

  DeliveryFilter by_a;
  by_a.endpoint_id = a.id;
  const std::vector<Delivery> of_a = ListDeliveries(by_a);
  EXPECT_EQ(of_a.size(), 3u);
  for (const Delivery& d : of_a) {
    EXPECT_EQ(d.endpoint_id, a.id);
    EXPECT_THAT(d.event_type, StartsWith("type."));
    EXPECT_TRUE(d.attempt_log.empty());  // GetDelivery only
  }
  DeliveryFilter pending;
  pending.status = DeliveryStatus::kPending;
  EXPECT_EQ(ListDeliveries(pending).size(), 6u);
  DeliveryFilter succeeded;
  succeeded.status = DeliveryStatus::kSucceeded;
  EXPECT_TRUE(ListDeliveries(succeeded).empty());
  EXPECT_EQ(engine_->RunDue(), 6);
  EXPECT_EQ(ListDeliveries(succeeded).size(), 6u);
  EXPECT_TRUE(ListDeliveries(pending).empty());
  succeeded.endpoint_id = b.id;
  EXPECT_EQ(ListDeliveries(succeeded).size(), 3u);

  // Pages cover every delivery once.
  std::set<std::string> paged;
  DeliveryFilter page;
  page.limit = 4;
  std::vector<Delivery> first = ListDeliveries(page);
  ASSERT_EQ(first.size(), 4u);
  page.before_id = first.back().id;
  std::vector<Delivery> second = ListDeliveries(page);
  EXPECT_EQ(second.size(), 2u);
  for (const auto* v : {&first, &second}) {
    for (const Delivery& d : *v) EXPECT_TRUE(paged.insert(d.id).second) << d.id;
  }
  EXPECT_EQ(paged, all_ids);

  for (int limit : {0, -1, 1001}) {
    DeliveryFilter bad;
    bad.limit = limit;
    EXPECT_TRUE(absl::IsInvalidArgument(dispatcher_->ListDeliveries(bad).status())) << limit;
  }
  EXPECT_TRUE(absl::IsNotFound(dispatcher_->GetDelivery("dlv_unknown").status()));
  EXPECT_EQ(DeliveryStatusName(DeliveryStatus::kPending), "pending");
  EXPECT_EQ(DeliveryStatusName(DeliveryStatus::kSucceeded), "succeeded");
  EXPECT_EQ(DeliveryStatusName(DeliveryStatus::kFailed), "failed");
}

}  // namespace
}  // namespace herald::webhooks
