#pragma once
// Bridges between std::string_view and Debian's Abseil, which is built with its own
// absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW=0), and a formatter so fmt::format can
// print absl::string_view (e.g. Status::message()). Build strings with fmt::format.

#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "fmt/format.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(absl::string_view s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

namespace herald {

inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

// The rule for names users choose (queues, job types, schedules): 1 to 128 characters of
// [A-Za-z0-9_.:-], so a name is safe in a URL path, a log line and a metric label.
inline constexpr size_t kMaxNameLength = 128;
inline bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// The value of a hex digit (either case), or -1 if `c` is not one.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

namespace strings_internal {

// Text StrAppend appends as it is: std and absl string views, strings, character arrays and
// pointers (a null pointer is not text: fmt prints "0x0").
template <typename T>
inline constexpr bool kIsText = std::is_same_v<T, absl::string_view> ||
                                (!std::is_null_pointer_v<T> &&
                                 std::is_convertible_v<const T&, std::string_view>);
// Integers it writes itself: not bool ("true"), nor the character types.
template <typename T>
inline constexpr bool kIsInteger =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
    !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
    !std::is_same_v<T, char32_t>;

template <typename T>
std::string_view TextOf(const T& v) {
  if constexpr (std::is_same_v<T, absl::string_view>) {
    return ToStd(v);
  } else if constexpr (std::is_pointer_v<T>) {
    return v != nullptr ? std::string_view(v) : std::string_view();  // fmt throws on null
  } else {
    return std::string_view(v);
  }
}

// One piece of StrAppend: text, characters and integers are appended directly (fmt's
// format_to parses its format string and dispatches on a type-erased argument for each of
// them), anything else through fmt. The output is exactly fmt's.
template <typename T>
void AppendPiece(std::string* out, const T& v) {
  if constexpr (kIsText<T>) {
    out->append(TextOf(v));
  } else if constexpr (std::is_same_v<T, char>) {
    out->push_back(v);
  } else if constexpr (kIsInteger<T>) {
    const fmt::format_int digits(v);
    out->append(digits.data(), digits.size());
  } else {
    fmt::format_to(std::back_inserter(*out), "{}", v);
  }
}

// An upper bound of what AppendPiece adds for text, characters and integers; 0 for anything
// else.
template <typename T>
size_t PieceSize(const T& v) {
  if constexpr (kIsText<T>) {
    return TextOf(v).size();
  } else if constexpr (std::is_same_v<T, char>) {
    return 1;
  } else if constexpr (kIsInteger<T>) {
    return std::numeric_limits<T>::digits10 + 2;  // every digit and a sign
  } else {
    return 0;
  }
}

}  // namespace strings_internal

// Appends anything fmt can print (std and absl string views included) to `out`, as fmt
// prints it; a null character pointer adds nothing.
template <typename... Args>
void StrAppend([[maybe_unused]] std::string* out, const Args&... args) {
  (strings_internal::AppendPiece(out, args), ...);
}

// The concatenation of anything fmt can print.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  out.reserve((size_t{0} + ... + strings_internal::PieceSize(args)));
  StrAppend(&out, args...);
  return out;
}

}  // namespace herald
