#pragma once
// JsonWriter: writes one JSON object's text directly, without building a boost::json tree,
// for answers on a hot path (a door scan's answer: 3,000 instructions instead of 30,000).
// Strings are escaped as RFC 8259 requires ('"', '\\' and control characters); other bytes,
// UTF-8 or not, are written as they are, as boost::json::serialize does. Keys are written as
// given: pass names that need no escaping.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::http {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(512); }

  JsonWriter& BeginObject(std::string_view key = {});  // a nested object when `key` is set
  JsonWriter& EndObject();

  JsonWriter& String(std::string_view key, std::string_view value);
  JsonWriter& Int(std::string_view key, int64_t value);
  JsonWriter& Bool(std::string_view key, bool value);
  JsonWriter& Null(std::string_view key);
  // Int, or null for 0 (an id that is not set).
  JsonWriter& IdOrNull(std::string_view key, int64_t id);
  // String, or null when there is none.
  JsonWriter& StringOrNull(std::string_view key, const std::optional<std::string>& value);

  // The text; the writer is left empty.
  std::string Take() { return std::move(out_); }

 private:
  void Key(std::string_view key);

  std::string out_;
  bool first_ = true;  // no member written yet in the current object
};

}  // namespace herald::http
