#include "broker/auth/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <array>
#include <boost/json/parse.hpp>

namespace cicada::broker::auth {
namespace {

namespace json = boost::json;

int base64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

struct Algorithm {
  std::string_view name;
  const EVP_MD* (*digest)();
  char family;              // 'H' HMAC, 'R' RSA PKCS#1 v1.5, 'E' ECDSA
  std::size_t ec_half = 0;  // ES*: bytes of r and of s (RFC 7518 3.4)
};

constexpr std::array<Algorithm, 9> kAlgorithms{{
    {"HS256", EVP_sha256, 'H'},
    {"HS384", EVP_sha384, 'H'},
    {"HS512", EVP_sha512, 'H'},
    {"RS256", EVP_sha256, 'R'},
    {"RS384", EVP_sha384, 'R'},
    {"RS512", EVP_sha512, 'R'},
    {"ES256", EVP_sha256, 'E', 32},
    {"ES384", EVP_sha384, 'E', 48},
    {"ES512", EVP_sha512, 'E', 66},
}};

const Algorithm* find_algorithm(std::string_view name) {
  for (const Algorithm& a : kAlgorithms)
    if (a.name == name) return &a;
  return nullptr;
}

Expected<json::object, std::string> parse_object(std::string_view bytes, std::string_view what) {
  boost::system::error_code error;
  json::value value = json::parse(bytes, error);
  if (error || !value.is_object()) {
    return unexpected(std::string(what) + " is not a JSON object");
  }
  return Expected<json::object, std::string>{std::move(value.as_object())};
}

bool verify_signature(EVP_PKEY* key, const EVP_MD* digest, std::string_view input,
                      const unsigned char* signature, std::size_t size) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature, size,
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

// JWS carries an ECDSA signature as r || s, fixed width; OpenSSL wants DER.
std::optional<std::string> ecdsa_der(std::string_view raw, std::size_t half) {
  if (raw.size() != 2 * half) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, static_cast<int>(half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

// The curve an ES* algorithm requires (RFC 7518 3.4): a P-256 key verifies ES256 only.
std::size_t ec_half_of(EVP_PKEY* key) {
  switch (EVP_PKEY_get_bits(key)) {
    case 256:
      return 32;
    case 384:
      return 48;
    case 521:
      return 66;
    default:
      return 0;
  }
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero: one text, one meaning.
  if ((buffer & ((1U << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool looks_like_jwt(std::string_view token) noexcept {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return false;
  const auto second = token.find('.', first + 1);
  return second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos;
}

JwtVerifier JwtVerifier::hmac(std::string secret) {
  JwtVerifier v;
  v.secret_ = std::move(secret);
  return v;
}

Expected<JwtVerifier, std::string> JwtVerifier::public_key(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return unexpected(std::string("not a PEM public key"));
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA && EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
    EVP_PKEY_free(key);
    return unexpected(std::string("the public key is neither RSA nor EC"));
  }
  JwtVerifier v;
  v.key_ = std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
  return v;
}

Expected<json::object, std::string> JwtVerifier::verify(std::string_view token) const {
  if (!looks_like_jwt(token)) return unexpected(std::string("not a JWT"));
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  const std::string_view header_part = token.substr(0, first);
  const std::string_view payload_part = token.substr(first + 1, second - first - 1);
  const std::string_view signing_input = token.substr(0, second);
  auto header_bytes = base64url_decode(header_part);
  auto payload_bytes = base64url_decode(payload_part);
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header_bytes || !payload_bytes || !signature) {
    return unexpected(std::string("malformed base64url"));
  }
  auto header = parse_object(*header_bytes, "the header");
  if (!header) return unexpected(header.error());
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return unexpected(std::string("no alg in the header"));
  const Algorithm* algorithm = find_algorithm(std::string_view(alg->get_string()));
  if (algorithm == nullptr) {
    return unexpected("algorithm " + std::string(alg->get_string()) + " is not accepted");
  }
  const bool hmac_family = algorithm->family == 'H';
  if (hmac_family != !key_) {
    return unexpected("algorithm " + std::string(algorithm->name) + " is not the configured one");
  }
  bool good = false;
  if (hmac_family) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    if (HMAC(algorithm->digest(), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
             mac.data(), &length) == nullptr) {
      return unexpected(std::string("HMAC failed"));
    }
    // Constant time: a forger learns nothing from how long a wrong MAC took.
    good = signature->size() == length && CRYPTO_memcmp(mac.data(), signature->data(), length) == 0;
  } else if (algorithm->family == 'R') {
    good = EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_RSA &&
           verify_signature(key_.get(), algorithm->digest(), signing_input,
                            reinterpret_cast<const unsigned char*>(signature->data()),
                            signature->size());
  } else {
    if (EVP_PKEY_get_base_id(key_.get()) != EVP_PKEY_EC ||
        ec_half_of(key_.get()) != algorithm->ec_half) {
      return unexpected("algorithm " + std::string(algorithm->name) + " does not fit the key");
    }
    auto der = ecdsa_der(*signature, algorithm->ec_half);
    good =
        der && verify_signature(key_.get(), algorithm->digest(), signing_input,
                                reinterpret_cast<const unsigned char*>(der->data()), der->size());
  }
  if (!good) return unexpected(std::string("bad signature"));
  return parse_object(*payload_bytes, "the payload");
}

}  // namespace cicada::broker::auth
