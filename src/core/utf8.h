#pragma once
// UTF-8 validation, shared by everything that must not pass invalid text on: log lines,
// JSON error bodies, password policy. Overlong forms, surrogates and code points above
// U+10FFFF are invalid.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::core {

// Length of the valid UTF-8 sequence starting at s[i] (i < s.size()), or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i);

// Counts code points into `count`; false if `s` is not valid UTF-8.
bool CountUtf8(std::string_view s, size_t& count);

// `s` with every invalid byte replaced by U+FFFD.
std::string ToValidUtf8(std::string_view s);

// The code point of the valid sequence s[i, i + len) (len from Utf8SequenceLength).
uint32_t DecodeUtf8(std::string_view s, size_t i, size_t len);

// Appends code point `cp` (at most U+10FFFF, not a surrogate) encoded as UTF-8.
void AppendUtf8(uint32_t cp, std::string& out);

}  // namespace herald::core
