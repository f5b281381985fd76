// Encoding and decoding of stored messages (see store_record.hpp). Every read is
// bounds-checked: a truncated or corrupt file is an ordinary error value.
#include "store_record.hpp"

#include <array>

namespace cicada::client::store {

namespace {

constexpr std::uint8_t flag_retain = 1 << 0;
constexpr std::uint8_t flag_format = 1 << 1;
constexpr std::uint8_t flag_expiry = 1 << 2;
constexpr std::uint8_t flag_content_type = 1 << 3;
constexpr std::uint8_t flag_response_topic = 1 << 4;
constexpr std::uint8_t flag_correlation = 1 << 5;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto crc_table = make_crc_table();

void put_u32(std::string& out, std::uint32_t v) {
  for (unsigned i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (unsigned i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool u8(std::uint8_t& v) {
    if (bytes_.size() < 1) return false;
    v = static_cast<std::uint8_t>(bytes_[0]);
    bytes_.remove_prefix(1);
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (bytes_.size() < 4) return false;
    v = 0;
    for (std::size_t i = 0; i < 4; ++i)
      v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes_[i])) << (8 * i);
    bytes_.remove_prefix(4);
    return true;
  }
  bool u64(std::uint64_t& v) {
    std::uint32_t low = 0;
    std::uint32_t high = 0;
    if (!u32(low) || !u32(high)) return false;
    v = (std::uint64_t{high} << 32) | low;
    return true;
  }
  bool string(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || bytes_.size() < n) return false;
    s.assign(bytes_.substr(0, n));
    bytes_.remove_prefix(n);
    return true;
  }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

}  // namespace

std::uint32_t crc32(std::string_view bytes) noexcept {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes)
    c = crc_table[(c ^ static_cast<std::uint8_t>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint64_t unix_seconds(std::chrono::system_clock::time_point t) noexcept {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return s > 0 ? static_cast<std::uint64_t>(s) : 0;
}

std::uint64_t seconds_waited(std::optional<std::uint64_t> queued_at, std::uint64_t now) noexcept {
  if (!queued_at || *queued_at >= now) return 0;
  return now - *queued_at;
}

std::string encode_record(const Message& m, std::uint64_t queued_at) {
  const auto& p = m.properties;
  std::string body;
  body.reserve(m.topic.size() + m.payload.size() + 40);
  put_u64(body, queued_at);
  body.push_back(static_cast<char>(m.qos));
  std::uint8_t flags = 0;
  if (m.retain) flags |= flag_retain;
  if (p.payload_format_indicator) flags |= flag_format;
  if (p.message_expiry_interval) flags |= flag_expiry;
  if (p.content_type) flags |= flag_content_type;
  if (p.response_topic) flags |= flag_response_topic;
  if (p.correlation_data) flags |= flag_correlation;
  body.push_back(static_cast<char>(flags));
  if (p.payload_format_indicator) body.push_back(static_cast<char>(*p.payload_format_indicator));
  if (p.message_expiry_interval) put_u32(body, *p.message_expiry_interval);
  put_string(body, m.topic);
  put_string(body, m.payload);
  if (p.content_type) put_string(body, *p.content_type);
  if (p.response_topic) put_string(body, *p.response_topic);
  if (p.correlation_data) put_string(body, *p.correlation_data);
  put_u32(body, static_cast<std::uint32_t>(p.user_properties.size()));
  for (const auto& [name, value] : p.user_properties) {
    put_string(body, name);
    put_string(body, value);
  }
  std::string out;
  out.reserve(record_magic.size() + body.size() + 8);
  out.append(record_magic);
  put_u32(out, static_cast<std::uint32_t>(body.size()));
  out.append(body);
  put_u32(out, crc32(body));
  return out;
}

Expected<Record, std::string> decode_record(std::string_view bytes) {
  if (bytes.size() < record_magic.size())
    return unexpected(std::string("truncated: ") + std::to_string(bytes.size()) + " bytes");
  const std::string_view magic = bytes.substr(0, record_magic.size());
  const bool has_time = magic == record_magic;
  if (!has_time && magic != record_magic_v1)
    return unexpected(std::string("bad magic (not a Cicada message file)"));
  Reader header(bytes.substr(record_magic.size()));
  std::uint32_t length = 0;
  if (!header.u32(length)) return unexpected(std::string("truncated: no length"));
  const std::size_t at = record_magic.size() + 4;
  if (bytes.size() < at + std::size_t{length} + 4)
    return unexpected("truncated: " + std::to_string(bytes.size()) + " of " +
                      std::to_string(at + std::size_t{length} + 4) + " bytes");
  if (bytes.size() > at + std::size_t{length} + 4)
    return unexpected(std::string("trailing bytes after the checksum"));
  const std::string_view body = bytes.substr(at, length);
  Reader tail(bytes.substr(at + length));
  std::uint32_t stored_crc = 0;
  (void)tail.u32(stored_crc);
  if (stored_crc != crc32(body)) return unexpected(std::string("checksum mismatch"));

  Record record;
  Message& m = record.message;
  MessageProperties& p = m.properties;
  Reader r(body);
  std::uint8_t qos = 0;
  std::uint8_t flags = 0;
  auto bad = [] { return unexpected(std::string("malformed body")); };
  if (has_time) {
    std::uint64_t queued_at = 0;
    if (!r.u64(queued_at)) return bad();
    record.queued_at = queued_at;
  }
  if (!r.u8(qos) || !r.u8(flags)) return bad();
  if (qos < 1 || qos > 2) return unexpected("bad QoS " + std::to_string(qos));
  m.qos = static_cast<QoS>(qos);
  m.retain = (flags & flag_retain) != 0;
  if (flags & flag_format) {
    std::uint8_t v = 0;
    if (!r.u8(v)) return bad();
    p.payload_format_indicator = v;
  }
  if (flags & flag_expiry) {
    std::uint32_t v = 0;
    if (!r.u32(v)) return bad();
    p.message_expiry_interval = v;
  }
  if (!r.string(m.topic) || !r.string(m.payload)) return bad();
  auto optional_string = [&](std::uint8_t flag, std::optional<std::string>& out) {
    if (!(flags & flag)) return true;
    std::string s;
    if (!r.string(s)) return false;
    out = std::move(s);
    return true;
  };
  if (!optional_string(flag_content_type, p.content_type) ||
      !optional_string(flag_response_topic, p.response_topic) ||
      !optional_string(flag_correlation, p.correlation_data))
    return bad();
  std::uint32_t users = 0;
  if (!r.u32(users)) return bad();
  for (std::uint32_t i = 0; i < users; ++i) {
    std::string name;
    std::string value;
    if (!r.string(name) || !r.string(value)) return bad();
    p.user_properties.emplace_back(std::move(name), std::move(value));
  }
  if (!r.empty()) return bad();
  return record;
}

}  // namespace cicada::client::store
