#include "net/http_client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "core/strings.h"
#include "net/ip_address.h"

namespace herald::net {
namespace {

// curl_global_init is not thread-safe: run it once, before any handle exists.

struct Transfer {
  HttpResponse response;
  size_t max_body = 0;
  bool too_large = false;
  bool public_only = false;
  bool refused_address = false;  // set by OpenSocket
};

// CURLOPT_OPENSOCKETFUNCTION: curl calls it with the address it is about to connect to, after
// DNS resolution, so the SSRF check sees what a name really resolved to.
curl_socket_t OpenSocket(void* clientp, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(clientp);
  if (t->public_only && !IsPublicAddress(&address->addr)) {
    t->refused_address = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

size_t WriteCallback(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nmemb;
  if (t->response.body.size() + n > t->max_body) {
    t->too_large = true;
    return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// curl calls this once per header line of every response it reads, interim ones (100 Continue)
// included: a status line starts the header block over.
size_t HeaderCallback(char* data, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nitems;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();
    return n;
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    // Obsolete line folding: the line continues the previous header's value.
    if (!t->response.headers.empty()) {
      std::string& value = t->response.headers.back().second;
      value.append(" ").append(Trim(line));
    }
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line that ends the block
  std::string name(Trim(line.substr(0, colon)));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  t->response.headers.emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
  return n;
}

bool HasLineBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendEncoded(std::string& out, std::string_view s, bool space_as_plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
}

std::string EncodePairs(const std::vector<std::pair<std::string, std::string>>& fields,
                        bool space_as_plus) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    AppendEncoded(out, name, space_as_plus);
    out.push_back('=');
    AppendEncoded(out, value, space_as_plus);
  }
  return out;
}

}  // namespace

void EnsureCurlInitialized() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

struct HttpClient::Handle {
  CURL* curl = curl_easy_init();
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

std::string_view HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  EnsureCurlInitialized();
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Post(const HttpRequest& request) {
  return Perform(Method::kPost, request);
}

Result<HttpResponse> HttpClient::Get(const HttpRequest& request) {
  if (!request.body.empty() || !request.content_type.empty()) {
    return absl::InvalidArgumentError("a GET request has no body");
  }
  return Perform(Method::kGet, request);
}

std::unique_ptr<HttpClient::Handle> HttpClient::Acquire() {
  {
    absl::MutexLock l(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Handle> h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  return std::make_unique<Handle>();
}

void HttpClient::Release(std::unique_ptr<Handle> handle) {
  {
    absl::MutexLock l(&mu_);
    if (static_cast<int>(idle_.size()) < options_.max_idle) {
      idle_.push_back(std::move(handle));
      return;
    }
  }
  // The pool is full: `handle` is destroyed here, outside the lock, closing its connection.
}

Result<HttpResponse> HttpClient::Perform(Method method, const HttpRequest& request) {
  if (!request.url.starts_with("http://") && !request.url.starts_with("https://")) {
    return absl::InvalidArgumentError("the URL must start with http:// or https://");
  }
  if (HasLineBreak(request.url) || HasLineBreak(request.content_type)) {
    return absl::InvalidArgumentError("the URL or content type contains a line break");
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find(':') != std::string::npos || HasLineBreak(name) ||
        HasLineBreak(value)) {
      return absl::InvalidArgumentError(
          StrCat("invalid header name or value for '", name.substr(0, 64), "'"));
    }
  }
  const int64_t timeout_ms = absl::ToInt64Milliseconds(request.timeout);
  if (timeout_ms <= 0) return absl::InvalidArgumentError("the timeout must be at least 1 ms");

  std::unique_ptr<Handle> handle = Acquire();
  if (handle->curl == nullptr) return absl::UnavailableError("could not create a curl handle");
  CURL* curl = handle->curl;
  curl_easy_reset(curl);  // keeps the connection cache, forgets the previous options

  curl_slist* list = nullptr;
  if (!request.content_type.empty()) {
    list = curl_slist_append(list, StrCat("Content-Type: ", request.content_type).c_str());
  }
  for (const auto& [name, value] : request.headers) {
    list = curl_slist_append(list, StrCat(name, ": ", value).c_str());
  }
  // Without this curl sends "Expect: 100-continue" for larger bodies and waits up to a second.
  if (method == Method::kPost) list = curl_slist_append(list, "Expect:");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> list_guard(list, curl_slist_free_all);

  Transfer transfer;
  transfer.max_body = options_.max_response_bytes;
  char error[CURL_ERROR_SIZE] = "";

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(timeout_ms, 10000)));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteCallback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, HeaderCallback);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (!options_.allow_private_addresses) {
    transfer.public_only = true;
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");  // no proxy from the environment: connect directly
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (method == Method::kPost) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  if (!request.basic_auth_user.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.basic_auth_user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.basic_auth_password.c_str());
  }

  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  // Options point into this frame (the error buffer, the header list): clear them before the
  // handle goes back to the pool.
  curl_easy_reset(curl);
  Release(std::move(handle));

  if (rc != CURLE_OK) {
    if (transfer.refused_address) {
      return absl::PermissionDeniedError(
          "refused to connect: the host resolves to a non-public address (loopback, private, "
          "link-local...)");
    }
    const std::string text = error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(text);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return absl::InvalidArgumentError(text);
      case CURLE_WRITE_ERROR:
        if (transfer.too_large) {
          return absl::UnavailableError(
              StrCat("the response body is larger than ", options_.max_response_bytes, " bytes"));
        }
        return absl::UnavailableError(text);
      default:
        return absl::UnavailableError(text);
    }
  }
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEncoded(out, s, /*space_as_plus=*/false);
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  return EncodePairs(fields, /*space_as_plus=*/true);
}

std::string QueryEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  return EncodePairs(fields, /*space_as_plus=*/false);
}

Result<std::vector<std::pair<std::string, std::string>>> FormDecode(std::string_view body) {
  if (body.size() > (1 << 20)) return absl::InvalidArgumentError("form body over 1 MiB");
  auto decode = [](std::string_view in, std::string& out) -> bool {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
      const char c = in[i];
      if (c == '+') {
        out.push_back(' ');
      } else if (c == '%') {
        if (i + 2 >= in.size()) return false;
        const int hi = HexDigitValue(in[i + 1]), lo = HexDigitValue(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        out.push_back(c);
      }
    }
    return true;
  };
  std::vector<std::pair<std::string, std::string>> fields;
  size_t start = 0;
  while (start <= body.size() && !body.empty()) {
    size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view pair = body.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        return absl::InvalidArgumentError("form body: a field without '='");
      }
      std::string name, value;
      if (!decode(pair.substr(0, eq), name) || !decode(pair.substr(eq + 1), value)) {
        return absl::InvalidArgumentError("form body: a malformed %-escape");
      }
      fields.emplace_back(std::move(name), std::move(value));
    }
    start = end + 1;
  }
  return fields;
}

}  // namespace herald::net
