#include "auth/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>

#include "core/strings.h"

namespace herald::auth {
namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kHex[] = "0123456789abcdef";

const unsigned char* Bytes(std::string_view s) {
  // OpenSSL wants a valid pointer even for zero bytes.
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  // Key and data sizes are bounded by our callers (tokens <= 8 KiB, bodies by the HTTP
  // layer), far below INT_MAX.
  HMAC(EVP_sha256(), Bytes(key), static_cast<int>(key.size()), Bytes(data), data.size(), out.data(),
       &len);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

// RFC 2104: HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' the key padded to the
// block size (hashed first if longer).
struct HmacSha256Key::State {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* inner = nullptr;  // has absorbed K' ^ ipad
  EVP_MD_CTX* outer = nullptr;  // has absorbed K' ^ opad
  ~State() {
    EVP_MD_CTX_free(inner);
    EVP_MD_CTX_free(outer);
    EVP_MD_free(md);
  }
};

HmacSha256Key::HmacSha256Key(std::string_view key) : state_(std::make_unique<State>()) {
  constexpr size_t kBlock = 64;
  std::string k = key.size() > kBlock ? Sha256(key) : std::string(key);
  k.resize(kBlock, '\0');
  std::string ipad = k, opad = k;
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = static_cast<char>(ipad[i] ^ 0x36);
    opad[i] = static_cast<char>(opad[i] ^ 0x5c);
  }
  state_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  state_->inner = EVP_MD_CTX_new();
  state_->outer = EVP_MD_CTX_new();
  if (state_->md == nullptr || state_->inner == nullptr || state_->outer == nullptr ||
      EVP_DigestInit_ex(state_->inner, state_->md, nullptr) != 1 ||
      EVP_DigestUpdate(state_->inner, ipad.data(), ipad.size()) != 1 ||
      EVP_DigestInit_ex(state_->outer, state_->md, nullptr) != 1 ||
      EVP_DigestUpdate(state_->outer, opad.data(), opad.size()) != 1) {
    // Only on allocation failure or a broken OpenSSL: nothing sensible can go on.
    std::abort();
  }
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(ipad.data(), ipad.size());
  OPENSSL_cleanse(opad.data(), opad.size());
}

HmacSha256Key::~HmacSha256Key() = default;

std::string HmacSha256Key::Sign(std::string_view data) const {
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx t;
  unsigned char inner[SHA256_DIGEST_LENGTH];
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  if (t.ctx == nullptr || EVP_MD_CTX_copy_ex(t.ctx, state_->inner) != 1 ||
      EVP_DigestUpdate(t.ctx, Bytes(data), data.size()) != 1 ||
      EVP_DigestFinal_ex(t.ctx, inner, &len) != 1 ||
      EVP_MD_CTX_copy_ex(t.ctx, state_->outer) != 1 ||
      EVP_DigestUpdate(t.ctx, inner, sizeof inner) != 1 ||
      EVP_DigestFinal_ex(t.ctx, reinterpret_cast<unsigned char*>(out.data()), &len) != 1) {
    std::abort();  // as above
  }
  return out;
}

std::string Sha256(std::string_view data) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up and allocates a context on every
  // call; the digest is fetched once and each thread keeps its context.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  unsigned int len = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) {
    SHA256(Bytes(data), data.size(), out.data());  // what it was; cannot fail
  }
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return absl::InternalError("the random number generator failed");
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(Bytes(a), Bytes(b), a.size()) == 0;
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigitValue(hex[i]);
    int lo = HexDigitValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                 uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
    out.push_back(kBase64Url[(v >> 6) & 63]);
    out.push_back(kBase64Url[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8);
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
    out.push_back(kBase64Url[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  static constexpr auto kValues = [] {
    std::array<int8_t, 256> v{};
    v.fill(-1);
    for (int i = 0; i < 64; ++i)
      v[static_cast<unsigned char>(kBase64Url[i])] = static_cast<int8_t>(i);
    return v;
  }();
  const size_t tail = text.size() % 4;
  if (tail == 1) return std::nullopt;
  std::string out(text.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1), '\0');
  char* o = out.data();
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  int bad = 0;  // any negative value makes it negative
  const size_t full = text.size() - tail;
  for (size_t i = 0; i < full; i += 4) {
    const int a = kValues[in[i]], b = kValues[in[i + 1]], c = kValues[in[i + 2]],
              d = kValues[in[i + 3]];
    bad |= a | b | c | d;
    const uint32_t n = (uint32_t(a & 63) << 18) | (uint32_t(b & 63) << 12) |
                       (uint32_t(c & 63) << 6) | uint32_t(d & 63);
    *o++ = static_cast<char>(n >> 16);
    *o++ = static_cast<char>(n >> 8);
    *o++ = static_cast<char>(n);
  }
  if (tail > 0) {
    const int a = kValues[in[full]], b = kValues[in[full + 1]];
    const int c = tail == 3 ? kValues[in[full + 2]] : 0;
    bad |= a | b | c;
    const uint32_t n =
        (uint32_t(a & 63) << 18) | (uint32_t(b & 63) << 12) | (uint32_t(c & 63) << 6);
    *o++ = static_cast<char>(n >> 16);
    if (tail == 3) *o++ = static_cast<char>(n >> 8);
    // Unused trailing bits must be zero: otherwise two encodings would decode alike.
    if ((tail == 2 ? (n & 0xffff) : (n & 0xff)) != 0) return std::nullopt;
  }
  if (bad < 0) return std::nullopt;
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kBase64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (n > 1) v |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    if (n > 2) v |= uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(n > 1 ? kBase64[(v >> 6) & 63] : '=');
    out.push_back(n > 2 ? kBase64[v & 63] : '=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  // Padding only at the very end: "xx==" carries one byte, "xxx=" two. Any other '=' stays
  // in the text decoded below, which refuses it as a character outside the alphabet.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  // Without its padding, standard base64 is base64url with '+' and '/' in place of '-' and
  // '_'; the strict base64url decoder then checks the alphabet, the length and that unused
  // trailing bits are zero.
  std::string url(text.substr(0, text.size() - pad));
  for (char& c : url) {
    if (c == '-' || c == '_') return std::nullopt;
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return Base64UrlDecode(url);
}

}  // namespace herald::auth
