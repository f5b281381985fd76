// Checking and making mosquitto_passwd hashes. OpenSSL does PBKDF2, SHA-512, base64,
// random salts and the constant-time comparison; libcrypt does SHA-512 crypt; libargon2
// does Argon2id.
#include "broker/auth/password_hash.hpp"

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace cicada::broker::auth {
namespace {

constexpr std::size_t kSha512Bytes = 64;
constexpr std::size_t kSaltBytes = 12;  // what mosquitto_passwd uses
// PBKDF2 is deliberately slow; a file asking for more than this would let one CONNECT
// occupy a worker for seconds.
constexpr std::uint32_t kMaxIterations = 1'000'000;

std::vector<std::string_view> split_dollar(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto dollar = text.find('$', start);
    parts.push_back(text.substr(start, dollar - start));
    if (dollar == std::string_view::npos) break;
    start = dollar + 1;
  }
  return parts;
}

bool equal_bytes(const std::vector<std::uint8_t>& a, const unsigned char* b, std::size_t size) {
  return a.size() == size && CRYPTO_memcmp(a.data(), b, size) == 0;
}

// Argon2id's cost parameters "m=M,t=T,p=P", bounded so that a file cannot make one CONNECT
// take a gigabyte of memory or many seconds (mosquitto 2.1 writes m=47104,t=1,p=1).
constexpr std::uint64_t kMaxArgonMemoryKib = 1 << 20;  // 1 GiB
constexpr std::uint64_t kMaxArgonTime = 64;
constexpr std::uint64_t kMaxArgonLanes = 64;

bool argon2_costs_ok(std::string_view text) {
  std::uint64_t m = 0, t = 0, p = 0;
  int seen = 0;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.size() < 3 || item[1] != '=') return false;
    std::uint64_t value = 0;
    const auto digits = item.substr(2);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return false;
    switch (item[0]) {
      case 'm':
        m = value;
        break;
      case 't':
        t = value;
        break;
      case 'p':
        p = value;
        break;
      default:
        return false;
    }
    ++seen;
  }
  return seen == 3 && m >= 8 && m <= kMaxArgonMemoryKib && t >= 1 && t <= kMaxArgonTime && p >= 1 &&
         p <= kMaxArgonLanes;
}

bool is_crypt_alphabet(std::string_view text) {
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

Expected<std::vector<std::uint8_t>, std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return unexpected(std::string("base64 length is not a multiple of 4"));
  }
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  const int written =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0) return unexpected(std::string("invalid base64"));
  // EVP_DecodeBlock keeps the zero bytes that padding stands for.
  std::size_t size = static_cast<std::size_t>(written);
  if (text.ends_with("==")) {
    size -= 2;
  } else if (text.ends_with("=")) {
    size -= 1;
  }
  out.resize(size);
  return out;
}

Expected<PasswordHash, std::string> parse_password_hash(std::string_view text) {
  const auto parts = split_dollar(text);
  // parts[0] is the empty text before the first '$'.
  if (parts.size() < 2 || !parts[0].empty()) {
    return unexpected(
        std::string("expected a hash starting with $7$, $6$ or $argon2id$ (a plain-text "
                    "password? hash it with cicada-passwd or mosquitto_passwd -U)"));
  }
  PasswordHash result;
  if (parts[1] == "7") {
    if (parts.size() != 5) {
      return unexpected(std::string("expected $7$ITERATIONS$SALT$HASH"));
    }
    std::uint32_t iterations = 0;
    const auto [end, ec] =
        std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), iterations);
    if (ec != std::errc{} || end != parts[2].data() + parts[2].size() || iterations == 0 ||
        iterations > kMaxIterations) {
      return unexpected("expected an iteration count from 1 to " + std::to_string(kMaxIterations));
    }
    auto salt = base64_decode(parts[3]);
    if (!salt || salt->empty()) return unexpected("salt: " + (salt ? "empty" : salt.error()));
    auto hash = base64_decode(parts[4]);
    if (!hash || hash->size() != kSha512Bytes) {
      return unexpected(std::string("hash: expected base64 of 64 bytes"));
    }
    result.kind = HashKind::pbkdf2_sha512;
    result.iterations = iterations;
    result.salt = std::move(*salt);
    result.hash = std::move(*hash);
    return result;
  }
  if (parts[1] == "6") {
    // Mosquitto's own $6$SALT$HASH has a base64 hash of exactly 64 bytes (88 characters
    // with padding); crypt's has 86 characters of its own alphabet and may carry rounds=N.
    if (parts.size() == 4 && parts[3].size() == 88) {
      auto salt = base64_decode(parts[2]);
      if (!salt || salt->empty()) return unexpected("salt: " + (salt ? "empty" : salt.error()));
      auto hash = base64_decode(parts[3]);
      if (!hash || hash->size() != kSha512Bytes) {
        return unexpected(std::string("hash: expected base64 of 64 bytes"));
      }
      result.kind = HashKind::mosquitto_sha512;
      result.salt = std::move(*salt);
      result.hash = std::move(*hash);
      return result;
    }
    const bool rounds = parts.size() == 5 && parts[2].starts_with("rounds=");
    if ((parts.size() == 4 || rounds) && parts.back().size() == 86 &&
        is_crypt_alphabet(parts.back())) {
      result.kind = HashKind::sha512_crypt;
      result.encoded = std::string(text);
      return result;
    }
    return unexpected(std::string("expected $6$SALT$HASH with a base64 hash of 64 bytes"));
  }
  if (parts[1] == "argon2id") {
    // $argon2id$v=19$m=M,t=T,p=P$SALT$HASH; libargon2 checks the rest when verifying.
    if (parts.size() != 6 || parts[2] != "v=19") {
      return unexpected(std::string("expected $argon2id$v=19$m=M,t=T,p=P$SALT$HASH"));
    }
    if (!argon2_costs_ok(parts[3])) {
      return unexpected("expected argon2id costs m=8.." + std::to_string(kMaxArgonMemoryKib) +
                        ",t=1.." + std::to_string(kMaxArgonTime) + ",p=1.." +
                        std::to_string(kMaxArgonLanes));
    }
    if (parts[4].empty() || parts[5].empty()) {
      return unexpected(std::string("expected an argon2id salt and hash"));
    }
    result.kind = HashKind::argon2id;
    result.encoded = std::string(text);
    return result;
  }
  return unexpected("unsupported hash type $" + std::string(parts[1]) +
                    "$ (supported: $7$ PBKDF2-SHA512, $6$ SHA-512, $argon2id$)");
}

bool verify_password(const PasswordHash& hash, std::string_view password) {
  unsigned char digest[kSha512Bytes];
  switch (hash.kind) {
    case HashKind::pbkdf2_sha512:
      if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), hash.salt.data(),
                            static_cast<int>(hash.salt.size()), static_cast<int>(hash.iterations),
                            EVP_sha512(), sizeof digest, digest) != 1) {
        return false;
      }
      return equal_bytes(hash.hash, digest, sizeof digest);
    case HashKind::mosquitto_sha512: {
      std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                      EVP_MD_CTX_free);
      unsigned int size = 0;
      if (!context || EVP_DigestInit_ex(context.get(), EVP_sha512(), nullptr) != 1 ||
          EVP_DigestUpdate(context.get(), password.data(), password.size()) != 1 ||
          EVP_DigestUpdate(context.get(), hash.salt.data(), hash.salt.size()) != 1 ||
          EVP_DigestFinal_ex(context.get(), digest, &size) != 1) {
        return false;
      }
      return equal_bytes(hash.hash, digest, size);
    }
    case HashKind::sha512_crypt: {
      // crypt_data is large (~32 KB): on the heap, not a worker's stack.
      auto data = std::make_unique<crypt_data>();
      const std::string key(password);
      const char* out = crypt_r(key.c_str(), hash.encoded.c_str(), data.get());
      if (out == nullptr || std::strlen(out) != hash.encoded.size()) return false;
      return CRYPTO_memcmp(out, hash.encoded.data(), hash.encoded.size()) == 0;
    }
    case HashKind::argon2id:
      // libargon2 recomputes the hash with the string's parameters and compares it in
      // constant time.
      return argon2id_verify(hash.encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
  }
  return false;
}

std::string make_pbkdf2_hash(std::string_view password, std::uint32_t iterations) {
  std::vector<std::uint8_t> salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    throw std::runtime_error("no random bytes for a salt");
  }
  std::vector<std::uint8_t> hash(kSha512Bytes);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha512(),
                        static_cast<int>(hash.size()), hash.data()) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return "$7$" + std::to_string(iterations) + "$" + base64_encode(salt) + "$" + base64_encode(hash);
}

}  // namespace cicada::broker::auth
