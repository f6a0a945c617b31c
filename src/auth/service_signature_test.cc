#include "auth/service_signature.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/strings.h"
#include "gtest/gtest.h"

namespace herald::auth {
namespace {

// The worked example of docs/AUTH.md, reproduced there with openssl.
constexpr std::string_view kDocSecret = "herald-example-secret-0123456789abcdef";
constexpr std::string_view kDocBody = R"({"payment_id":"pi_123","status":"succeeded"})";
constexpr std::string_view kDocSignature =
    "2b6f30c40180b92957ae85c4ec397e0e58654d26035e6ce0320a63dc3b93be9e";

TEST(SignServiceRequest, MatchesTheDocumentedExample) {
  EXPECT_EQ(ServiceSigningString("POST", "/api/internal/payment-webhook", "2025-06-15T14:30:00Z",
                                 "req_1234567890", kDocBody),
            "v1\nPOST\n/api/internal/payment-webhook\n2025-06-15T14:30:00Z\nreq_1234567890\n"
            "ca2a2101c31e47fbe44ea51bffe3d34c88bd3c5d3cf98e1370fe9756ae5ce479");
  EXPECT_EQ(SignServiceRequest(kDocSecret, "POST", "/api/internal/payment-webhook",
                               "2025-06-15T14:30:00Z", "req_1234567890", kDocBody),
            kDocSignature);
  EXPECT_EQ(SignatureHeaderValue(kDocSignature), "v1=" + std::string(kDocSignature));
}

TEST(ParseSignatureHeader, AcceptsV1EntriesAndSkipsOtherVersions) {
  const std::string hex(kDocSignature);
  Result<std::vector<std::string>> one = ParseSignatureHeader("v1=" + hex);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().size(), 32u);

  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(ParseSignatureHeader("v1=" + upper).ok());
  Result<std::vector<std::string>> two =
      ParseSignatureHeader("v2=whatever, v1=" + hex + " ,v1=" + std::string(64, '0'));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->size(), 2u);
}

TEST(ParseSignatureHeader, RejectsMalformedValues) {
  const std::string hex(kDocSignature);
  std::string nine;
  for (int i = 0; i < 9; ++i) nine += (i ? "," : "") + ("v1=" + hex);
  for (std::string bad :
       {std::string(""), std::string("v1"), std::string("=abc"), std::string("v1=zz"),
        std::string("v1=abcd"), "v2=" + hex, "sha256=" + hex, hex, "v1=" + hex + ",", nine}) {
    EXPECT_EQ(ParseSignatureHeader(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseServiceTimestamp, AcceptsRfc3339AndUnixSeconds) {
  Result<absl::Time> t = ParseServiceTimestamp("2025-06-15T14:30:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(absl::ToUnixSeconds(*t), 1749997800);
  EXPECT_EQ(*ParseServiceTimestamp("2025-06-15T16:30:00+02:00"), *t);
  EXPECT_EQ(*ParseServiceTimestamp("1749997800"), *t);
  EXPECT_TRUE(ParseServiceTimestamp("2025-06-15T14:30:00.250Z").ok());
  for (std::string_view bad : {"", "yesterday", "2025-06-15", "2025-06-15 14:30:00", "-1749997800",
                               "1749997800000000", "2025-13-15T14:30:00Z"}) {
    EXPECT_FALSE(ParseServiceTimestamp(bad).ok()) << bad;
  }
}

class ServiceRequestVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override { CreateVerifier({}); }

  void CreateVerifier(ServiceVerifierOptions options) {
    absl::flat_hash_map<std::string, std::string> secrets = {
        {"payment-service", std::string(kDocSecret)},
        {"ticket-generator-service", "ticket-generator-secret-0123456789abcdef"}};
    auto v = ServiceRequestVerifier::Create(std::move(secrets), clock_, options);
    ASSERT_TRUE(v.ok()) << v.status();
    verifier_ = std::move(v).value();
  }

  // A correctly signed request stamped at the clock's time (plus `skew`).
  struct Signed {
    std::string timestamp;
    std::string request_id;
    std::string body = R"({"payment_id":"pi_123"})";
    std::string signature;
    ServiceRequest request() const {
      return {"payment-service", "POST",     "/api/internal/payment-webhook",
              timestamp,         request_id, body,
              signature};
    }
  };
  Signed Make(std::string request_id, absl::Duration skew = absl::ZeroDuration(),
              std::string_view secret = kDocSecret) {
    Signed s;
    s.timestamp = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock_.Now() + skew, absl::UTCTimeZone());
    s.request_id = std::move(request_id);
    s.signature = SignatureHeaderValue(SignServiceRequest(
        secret, "POST", "/api/internal/payment-webhook", s.timestamp, s.request_id, s.body));
    return s;
  }

  void ExpectRejected(const ServiceRequest& r, std::string_view reason) {
    Status st = verifier_->Verify(r);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
    EXPECT_EQ(ToStd(st.message()), reason);
  }

  core::ManualClock clock_;
  std::unique_ptr<ServiceRequestVerifier> verifier_;
};

TEST_F(ServiceRequestVerifierTest, AcceptsAFreshSignedRequest) {
  Signed s = Make("req_1");
  EXPECT_TRUE(verifier_->Verify(s.request()).ok());
}

TEST_F(ServiceRequestVerifierTest, RejectsAWrongSecret) {
  ExpectRejected(
      Make("req_1", absl::ZeroDuration(), "not-the-right-secret-0123456789abcdef").request(),
      "bad signature");
}

TEST_F(ServiceRequestVerifierTest, RejectsTamperedBodyPathMethodAndHeaders) {
  Signed s = Make("req_1");
  ServiceRequest r = s.request();
  r.body = R"({"payment_id":"pi_999"})";
  ExpectRejected(r, "bad signature");
  r = s.request();
  r.path = "/api/internal/payment-webhook?x=1";
  ExpectRejected(r, "bad signature");
  r = s.request();
  r.method = "PUT";
  ExpectRejected(r, "bad signature");
  r = s.request();
  r.request_id = "req_2";
  ExpectRejected(r, "bad signature");
  r = s.request();
  const std::string forged = "v1=" + std::string(64, 'a');
  r.signature = forged;
  ExpectRejected(r, "bad signature");
  r.signature = "garbage";
  ExpectRejected(r, "bad signature");
  // Nothing was accepted, so the genuine request still goes through.
  EXPECT_TRUE(verifier_->Verify(s.request()).ok());
}

TEST_F(ServiceRequestVerifierTest, RejectsStaleAndFutureTimestamps) {
  EXPECT_TRUE(verifier_->Verify(Make("a", -absl::Seconds(300)).request()).ok());
  EXPECT_TRUE(verifier_->Verify(Make("b", absl::Seconds(300)).request()).ok());
  ExpectRejected(Make("c", -absl::Seconds(301)).request(), "stale timestamp");
  ExpectRejected(Make("d", absl::Seconds(301)).request(), "timestamp in the future");
  Signed s = Make("e");
  clock_.Advance(absl::Seconds(301));
  ExpectRejected(s.request(), "stale timestamp");
  Signed bad = Make("f");
  bad.timestamp = "soon";
  ExpectRejected(bad.request(), "bad timestamp");
}

TEST_F(ServiceRequestVerifierTest, AcceptsUnixSecondTimestamps) {
  Signed s;
  s.timestamp = std::to_string(absl::ToUnixSeconds(clock_.Now()));
  s.request_id = "req_unix";
  s.signature = SignatureHeaderValue(SignServiceRequest(
      kDocSecret, "POST", "/api/internal/payment-webhook", s.timestamp, s.request_id, s.body));
  EXPECT_TRUE(verifier_->Verify(s.request()).ok());
}

TEST_F(ServiceRequestVerifierTest, RejectsAReplayedRequestId) {
  Signed s = Make("req_1");
  EXPECT_TRUE(verifier_->Verify(s.request()).ok());
  ExpectRejected(s.request(), "replayed request");
  clock_.Advance(absl::Seconds(10));
  // Re-signed with a new timestamp: still the same request id, still a replay.
  ExpectRejected(Make("req_1").request(), "replayed request");
  EXPECT_TRUE(verifier_->Verify(Make("req_2").request()).ok());
}

TEST_F(ServiceRequestVerifierTest, RequestIdsAreScopedToTheService) {
  EXPECT_TRUE(verifier_->Verify(Make("req_1").request()).ok());
  Signed t = Make("req_1", absl::ZeroDuration(), "ticket-generator-secret-0123456789abcdef");
  ServiceRequest r = t.request();
  r.service_name = "ticket-generator-service";
  EXPECT_TRUE(verifier_->Verify(r).ok());
}

TEST_F(ServiceRequestVerifierTest, ForgetsRequestIdsAfterTwoWindows) {
  Signed s = Make("req_1", absl::Seconds(300));
  EXPECT_TRUE(verifier_->Verify(s.request()).ok());
  EXPECT_EQ(verifier_->replay_cache_size(), 1u);
  clock_.Advance(absl::Seconds(600));
  // Still inside the window (stamped 300 s ahead), and still remembered.
  ExpectRejected(s.request(), "replayed request");
  clock_.Advance(absl::Seconds(1));
  ExpectRejected(s.request(), "stale timestamp");
  EXPECT_TRUE(verifier_->Verify(Make("req_2").request()).ok());
  EXPECT_EQ(verifier_->replay_cache_size(), 1u);  // req_1 was pruned
}

TEST_F(ServiceRequestVerifierTest, RejectsUnknownServicesAndMissingIds) {
  Signed s = Make("req_1");
  ServiceRequest r = s.request();
  r.service_name = "someone-else";
  ExpectRejected(r, "unknown service");
  r = s.request();
  r.request_id = "";
  ExpectRejected(r, "missing request id");
  r.request_id = "has space";
  ExpectRejected(r, "missing request id");
}

TEST_F(ServiceRequestVerifierTest, AcceptsOneMatchingSignatureAmongSeveral) {
  Signed s = Make("req_rot");
  s.signature = "v1=" + std::string(64, '0') + "," + s.signature;
  EXPECT_TRUE(verifier_->Verify(s.request()).ok());
}

TEST_F(ServiceRequestVerifierTest, AFullReplayCacheRefusesInsteadOfForgetting) {
  CreateVerifier({absl::Seconds(300), 2});
  EXPECT_TRUE(verifier_->Verify(Make("a").request()).ok());
  EXPECT_TRUE(verifier_->Verify(Make("b").request()).ok());
  EXPECT_EQ(verifier_->Verify(Make("c").request()).code(), absl::StatusCode::kUnavailable);
  clock_.Advance(absl::Seconds(601));
  EXPECT_TRUE(verifier_->Verify(Make("c").request()).ok());
}

TEST_F(ServiceRequestVerifierTest, ConcurrentReplaysAdmitExactlyOne) {
  Signed s = Make("req_race");
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (verifier_->Verify(s.request()).ok()) ++accepted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
}

TEST(ServiceRequestVerifier, CreateRejectsShortSecretsAndBadNames) {
  core::ManualClock clock;
  EXPECT_FALSE(ServiceRequestVerifier::Create({{"svc", "short"}}, clock).ok());
  EXPECT_FALSE(ServiceRequestVerifier::Create({{"bad name", std::string(32, 's')}}, clock).ok());
  EXPECT_FALSE(ServiceRequestVerifier::Create({}, clock, {absl::ZeroDuration()}).ok());
  EXPECT_TRUE(ServiceRequestVerifier::Create({{"svc", std::string(32, 's')}}, clock).ok());
}

}  // namespace
}  // namespace herald::auth
