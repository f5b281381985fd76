// Password hashes as mosquitto_passwd writes them, so a Mosquitto password file works
// unchanged:
//   $7$ITERATIONS$SALT$HASH  PBKDF2-HMAC-SHA512 (mosquitto 2 default), base64 salt and hash
//   $6$SALT$HASH             SHA-512 of password followed by salt (mosquitto 1.x default,
//                            `mosquitto_passwd -H sha512`), base64 salt and hash
//   $argon2id$v=19$m=M,t=T,p=P$SALT$HASH  Argon2id in the PHC string format (mosquitto 2.1
//                            default), checked with libargon2
// and, for files made by other tools, glibc's SHA-512 crypt ($6$[rounds=N$]salt$hash in
// crypt's own alphabet), checked with crypt_r.
// Thread-safety: immutable values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/base/expected.hpp>

namespace cicada::broker::auth {

enum class HashKind : std::uint8_t { pbkdf2_sha512, mosquitto_sha512, sha512_crypt, argon2id };

struct PasswordHash {
  HashKind kind = HashKind::pbkdf2_sha512;
  std::uint32_t iterations = 0;    // pbkdf2_sha512
  std::vector<std::uint8_t> salt;  // pbkdf2_sha512, mosquitto_sha512
  std::vector<std::uint8_t> hash;  // pbkdf2_sha512, mosquitto_sha512 (64 bytes)
  std::string encoded;             // sha512_crypt: the whole crypt string
};

// Mosquitto's default iteration count for $7$.
inline constexpr std::uint32_t kDefaultIterations = 101;

// Parses the part after "user:". The error says what is wrong, without the hash itself.
Expected<PasswordHash, std::string> parse_password_hash(std::string_view text);

// True when `password` hashes to `hash`. The comparison takes the same time wherever the
// bytes differ (CRYPTO_memcmp), so timing tells an attacker nothing about the hash.
bool verify_password(const PasswordHash& hash, std::string_view password);

// A new $7$ hash with a random 12-byte salt, as mosquitto_passwd writes it.
std::string make_pbkdf2_hash(std::string_view password,
                             std::uint32_t iterations = kDefaultIterations);

// Base64 (RFC 4648, with padding), as mosquitto writes salts and hashes.
std::string base64_encode(const std::vector<std::uint8_t>& bytes);
Expected<std::vector<std::uint8_t>, std::string> base64_decode(std::string_view text);

}  // namespace cicada::broker::auth
