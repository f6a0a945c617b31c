#include "auth/password.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace herald::auth {
namespace {

std::unique_ptr<PasswordHasher> Cheap() {
  auto h = PasswordHasher::Create(PasswordOptions::ForTesting());
  EXPECT_TRUE(h.ok()) << h.status();
  return std::move(h).value();
}

TEST(PasswordHasher, HashesToAnArgon2idPhcStringThatVerifies) {
  auto hasher = Cheap();
  Result<std::string> hash = hasher->Hash("correct horse battery");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << *hash;
  Result<bool> ok = hasher->Verify("correct horse battery", *hash);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);
}

TEST(PasswordHasher, WrongPasswordDoesNotVerify) {
  auto hasher = Cheap();
  std::string hash = *hasher->Hash("correct horse battery");
  EXPECT_FALSE(*hasher->Verify("correct horse batterY", hash));
  EXPECT_FALSE(*hasher->Verify("", hash));
  EXPECT_FALSE(*hasher->Verify(std::string(kMaxPasswordBytes + 1, 'x'), hash));
}

TEST(PasswordHasher, SaltsEveryHash) {
  auto hasher = Cheap();
  EXPECT_NE(*hasher->Hash("same password!"), *hasher->Hash("same password!"));
}

TEST(PasswordHasher, DefaultCostIsArgon2idThreePassesOver32MiB) {
  PasswordOptions o;
  EXPECT_EQ(o.time_cost, 3u);
  EXPECT_EQ(o.memory_kib, 32u * 1024);
  EXPECT_EQ(o.parallelism, 1u);
  auto hasher = PasswordHasher::Create(o);
  ASSERT_TRUE(hasher.ok());
  std::string hash = *(*hasher)->Hash("a real password");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=32768,t=3,p=1$")) << hash;
  // A cheap hasher still verifies it: the cost is read from the string.
  EXPECT_TRUE(*Cheap()->Verify("a real password", hash));
}

TEST(PasswordHasher, RejectsMalformedOrOutOfBoundsHashes) {
  auto hasher = Cheap();
  for (std::string bad : {
           std::string(""),
           std::string("plaintext"),
           std::string("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
           std::string("$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
           // 4 GiB: refused before anything is allocated.
           std::string("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
           std::string("$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
           std::string("$argon2id$v=19$m=64,t=1,p=1$!!!$???"),
       }) {
    Result<bool> r = hasher->Verify("whatever password", bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << bad;
  }
}

TEST(PasswordHasher, NeedsRehashWhenTheCostChanged) {
  auto cheap = Cheap();
  std::string hash = *cheap->Hash("some password");
  EXPECT_FALSE(cheap->NeedsRehash(hash));
  auto other = PasswordHasher::Create({2, 64, 1, 1});
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->NeedsRehash(hash));
  EXPECT_TRUE(cheap->NeedsRehash("not a hash"));
}

TEST(PasswordHasher, CreateRejectsCostsOutsideTheCaps) {
  EXPECT_FALSE(PasswordHasher::Create({0, 64, 1, 1}).ok());        // t=0
  EXPECT_FALSE(PasswordHasher::Create({1, 4, 1, 1}).ok());         // m < 8
  EXPECT_FALSE(PasswordHasher::Create({1, 2u << 20, 1, 1}).ok());  // 2 GiB
  EXPECT_FALSE(PasswordHasher::Create({1, 64, 1, 0}).ok());        // no slot
}

TEST(PasswordHasher, ConcurrentCallersShareTheSlots) {
  auto h = PasswordHasher::Create({1, 64, 1, 1});
  ASSERT_TRUE(h.ok());
  const PasswordHasher& hasher = **h;
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      std::string pw = "password number " + std::to_string(i);
      for (int k = 0; k < 5; ++k) {
        Result<std::string> hash = hasher.Hash(pw);
        if (hash.ok() && *hasher.Verify(pw, *hash)) ++verified;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(verified.load(), 20);
}

TEST(PasswordPolicy, RequiresTenCharactersAndAtMost1024Bytes) {
  EXPECT_EQ(CheckPasswordPolicy("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckPasswordPolicy("123456789").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckPasswordPolicy("1234567890").ok());
  // Characters, not bytes: ten accented letters are 20 bytes and pass; five are 10 bytes
  // and do not.
  EXPECT_TRUE(CheckPasswordPolicy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                                  "\xa9\xc3\xa9\xc3\xa9")
                  .ok());
  EXPECT_FALSE(CheckPasswordPolicy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9").ok());
  EXPECT_TRUE(CheckPasswordPolicy(std::string(kMaxPasswordBytes, 'x')).ok());
  EXPECT_FALSE(CheckPasswordPolicy(std::string(kMaxPasswordBytes + 1, 'x')).ok());
  EXPECT_FALSE(CheckPasswordPolicy("abcdefghij\xff").ok());                 // not UTF-8
  EXPECT_FALSE(CheckPasswordPolicy("abcdefghij\xc0\xaf").ok());             // overlong
  EXPECT_FALSE(CheckPasswordPolicy(std::string("abcde\0fghij", 11)).ok());  // NUL
}

}  // namespace
}  // namespace herald::auth
