// The JWT verifier and authentication step (jwt.hpp, jwt_source.hpp): tokens signed here
// with the throw-away keys in tests/data/jwt (README there), and tampered with.
#include "broker/auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "broker/auth/jwt_source.hpp"

namespace cicada::broker::auth {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

std::string read(const std::string& name) {
  std::ifstream in(std::string(CICADA_TEST_DATA_DIR) + "/jwt/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string b64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

const EVP_MD* digest_of(std::string_view alg) {
  if (alg.ends_with("384")) return EVP_sha384();
  if (alg.ends_with("512")) return EVP_sha512();
  return EVP_sha256();
}

// header.payload signed with `alg`: HS* with `secret`, RS*/ES* with the private key file.
std::string sign(std::string_view alg, const std::string& payload, const std::string& key,
                 const std::string& header_extra = "") {
  const std::string input =
      b64url(R"({"alg":")" + std::string(alg) + R"(","typ":"JWT")" + header_extra + "}") + "." +
      b64url(payload);
  std::string signature;
  if (alg.starts_with("HS")) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(digest_of(alg), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
    signature.assign(reinterpret_cast<char*>(mac), length);
  } else {
    const std::string pem = read(key);
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, digest_of(alg), nullptr, pkey);
    std::size_t size = 0;
    EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string der(size, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &size,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    der.resize(size);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    if (alg.starts_with("ES")) {  // DER -> r || s (RFC 7518 3.4)
      const std::size_t half = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
      const auto* p = reinterpret_cast<const unsigned char*>(der.data());
      ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
      std::string raw(2 * half, '\0');
      BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()),
                   static_cast<int>(half));
      BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + half,
                   static_cast<int>(half));
      ECDSA_SIG_free(sig);
      signature = raw;
    } else {
      signature = der;
    }
  }
  return input + "." + b64url(signature);
}

JwtVerifier public_key(const std::string& file) {
  auto v = JwtVerifier::public_key(read(file));
  EXPECT_TRUE(v) << v.error();
  return std::move(*v);
}

TEST(Base64url, StrictDecoding) {
  EXPECT_EQ(base64url_decode("aGk"), "hi");
  EXPECT_EQ(base64url_decode(""), "");
  EXPECT_FALSE(base64url_decode("aGk="));  // padding is not base64url in JWS
  EXPECT_FALSE(base64url_decode("aG+k"));  // the standard alphabet's '+'
  EXPECT_FALSE(base64url_decode("a"));     // a length no encoding has
  EXPECT_FALSE(base64url_decode("aGl"));   // bits set past the last byte
}

TEST(Jwt, LooksLikeJwt) {
  EXPECT_TRUE(looks_like_jwt("a.b.c"));
  EXPECT_FALSE(looks_like_jwt("password"));
  EXPECT_FALSE(looks_like_jwt("a.b"));
  EXPECT_FALSE(looks_like_jwt("a.b.c.d"));
}

TEST(Jwt, EachAlgorithmVerifiesWithItsKey) {
  const std::string claims = R"({"sub":"alice"})";
  for (std::string_view alg : {"HS256", "HS384", "HS512"}) {
    auto verified = JwtVerifier::hmac("s3cret").verify(sign(alg, claims, "s3cret"));
    ASSERT_TRUE(verified) << alg << ": " << verified.error();
    EXPECT_EQ(verified->at("sub").as_string(), "alice");
  }
  for (std::string_view alg : {"RS256", "RS384", "RS512"}) {
    auto verified = public_key("rsa.pub").verify(sign(alg, claims, "rsa.key"));
    EXPECT_TRUE(verified) << alg << ": " << verified.error();
  }
  EXPECT_TRUE(public_key("ec256.pub").verify(sign("ES256", claims, "ec256.key")));
  EXPECT_TRUE(public_key("ec384.pub").verify(sign("ES384", claims, "ec384.key")));
}

TEST(Jwt, ForgeriesAreRefused) {
  const std::string claims = R"({"sub":"alice"})";
  EXPECT_FALSE(JwtVerifier::hmac("s3cret").verify(sign("HS256", claims, "other")));
  // A signature from another key of the same kind.
  EXPECT_FALSE(public_key("ec256.pub").verify(sign("ES384", claims, "ec384.key")));
  // The payload changed after signing.
  std::string token = sign("HS256", claims, "s3cret");
  const auto dot = token.find('.');
  const std::string forged =
      token.substr(0, dot + 1) + b64url(R"({"sub":"root"})") + token.substr(token.rfind('.'));
  EXPECT_FALSE(JwtVerifier::hmac("s3cret").verify(forged));
  // alg none, with an empty signature.
  const std::string none = b64url(R"({"alg":"none"})") + "." + b64url(claims) + ".";
  auto refused = JwtVerifier::hmac("s3cret").verify(none);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("not accepted"), std::string::npos);
}

TEST(Jwt, AlgorithmConfusionIsRefused) {
  // The public key's PEM as an HMAC secret: what a verifier that trusts alg would accept.
  const std::string pem = read("rsa.pub");
  auto refused = public_key("rsa.pub").verify(sign("HS256", R"({"sub":"x"})", pem));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("not the configured one"), std::string::npos);
  // RS256 on an EC key, ES256 on an RSA key, HS256 on a hmac verifier's twin family.
  EXPECT_FALSE(public_key("ec256.pub").verify(sign("RS256", "{}", "rsa.key")));
  EXPECT_FALSE(public_key("rsa.pub").verify(sign("ES256", "{}", "ec256.key")));
  EXPECT_FALSE(JwtVerifier::hmac("s").verify(sign("RS256", "{}", "rsa.key")));
}

TEST(Jwt, MalformedTokensAreRefused) {
  const JwtVerifier v = JwtVerifier::hmac("s");
  EXPECT_FALSE(v.verify("not-a-token"));
  EXPECT_FALSE(v.verify("e30.e30.!!"));                              // bad base64url
  EXPECT_FALSE(v.verify(b64url("[1]") + ".e30.AAAA"));               // header not an object
  EXPECT_FALSE(v.verify(b64url(R"({"typ":"JWT"})") + ".e30.AAAA"));  // no alg
  EXPECT_FALSE(JwtVerifier::public_key("-----BEGIN PUBLIC KEY-----\nxx\n"));
}

ConnectRequest connect(std::string client_id, std::optional<std::string> username,
                       std::optional<std::string> password) {
  return ConnectRequest{.client_id = std::move(client_id),
                        .username = std::move(username),
                        .password = std::move(password)};
}

JwtAuthenticator hs256(JwtSettings settings = {}) {
  return JwtAuthenticator(JwtVerifier::hmac("k"), std::move(settings));
}

TEST(JwtStep, ValidTokenAllowsAndExpiresAtExp) {
  const std::string token = sign("HS256", R"({"exp":1800000060})", "k");
  AuthAnswer answer = hs256().check(connect("c", "u", token), kNow);
  EXPECT_EQ(answer.verdict, Verdict::allow);
  EXPECT_FALSE(answer.superuser);
  ASSERT_TRUE(answer.client);
  EXPECT_EQ(answer.client->expire_at, 1'800'000'060);
  // disconnect_after_expire = false: exp is checked at CONNECT only.
  answer = hs256({.disconnect_after_expire = false}).check(connect("c", "u", token), kNow);
  EXPECT_EQ(answer.verdict, Verdict::allow);
  EXPECT_FALSE(answer.client);
}

TEST(JwtStep, ExpiredNotYetValidAndBadClaimsAreDeniedWith0x86) {
  for (const std::string payload : {R"({"exp":1800000000})", R"({"exp":1799999999.5})",
                                    R"({"nbf":1800000001})", R"({"exp":"soon"})"}) {
    const AuthAnswer answer = hs256().check(connect("c", "u", sign("HS256", payload, "k")), kNow);
    EXPECT_EQ(answer.verdict, Verdict::deny) << payload;
    EXPECT_EQ(answer.deny_reason, codec::ReasonCode::bad_user_name_or_password);
  }
  // One that does not verify is EMQX's invalid_signature: ignored, the next step decides.
  EXPECT_EQ(hs256().check(connect("c", "u", sign("HS256", "{}", "wrong")), kNow).verdict,
            Verdict::ignore);
  EXPECT_EQ(hs256().check(connect("c", "u", sign("RS256", "{}", "rsa.key")), kNow).verdict,
            Verdict::ignore);
}

TEST(JwtStep, APasswordThatIsNoJwtPassesOn) {
  EXPECT_EQ(hs256().check(connect("c", "u", "plain password"), kNow).verdict, Verdict::ignore);
  EXPECT_EQ(hs256().check(connect("c", "u", std::nullopt), kNow).verdict, Verdict::ignore);
  // from = username: the password is not looked at.
  const std::string token = sign("HS256", "{}", "k");
  EXPECT_EQ(hs256({.from_username = true}).check(connect("c", token, "x"), kNow).verdict,
            Verdict::allow);
}

TEST(JwtStep, VerifyClaimsMustEqualTheTemplates) {
  auto claims = parse_verify_claims("clientid=${clientid}, username = ${username}");
  ASSERT_TRUE(claims);
  const JwtAuthenticator step = hs256({.verify_claims = *claims});
  const std::string good = sign("HS256", R"({"clientid":"dev-1","username":"ann"})", "k");
  EXPECT_EQ(step.check(connect("dev-1", "ann", good), kNow).verdict, Verdict::allow);
  EXPECT_EQ(step.check(connect("dev-2", "ann", good), kNow).verdict, Verdict::deny);
  const std::string missing = sign("HS256", R"({"clientid":"dev-1"})", "k");
  EXPECT_EQ(step.check(connect("dev-1", "ann", missing), kNow).verdict, Verdict::deny);
  EXPECT_FALSE(parse_verify_claims("clientid"));
}

TEST(JwtStep, SuperuserAndAclClaims) {
  AuthAnswer answer =
      hs256().check(connect("c", "u", sign("HS256", R"({"is_superuser":true})", "k")), kNow);
  EXPECT_TRUE(answer.superuser);
  const std::string acl =
      R"({"acl":[{"permission":"allow","action":"publish","topic":"t/${clientid}"},)"
      R"({"permission":"deny","action":"all","topic":"#"}]})";
  answer = hs256().check(connect("c1", "u", sign("HS256", acl, "k")), kNow);
  ASSERT_EQ(answer.verdict, Verdict::allow);
  ASSERT_TRUE(answer.client);
  AccessRequest request{
      .client_id = "c1", .topic = "t/c1", .action = Action::publish, .qos = 1, .retain = false};
  EXPECT_EQ(answer.client->check(request), Verdict::allow);
  request.topic = "t/c2";
  EXPECT_EQ(answer.client->check(request), Verdict::deny);
  // An acl claim that cannot be read keeps the client out.
  answer = hs256().check(
      connect("c", "u", sign("HS256", R"({"acl":[{"permission":"maybe"}]})", "k")), kNow);
  EXPECT_EQ(answer.verdict, Verdict::deny);
}

}  // namespace
}  // namespace cicada::broker::auth
