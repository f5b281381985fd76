// ClientOptions: everything a Client is configured with, fixed when it is constructed.
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/client/backoff.hpp>
#include <cicada/client/types.hpp>

namespace cicada::client {

struct WillOptions {
  std::string topic;
  std::string payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  std::optional<std::uint32_t> delay_interval;  // MQTT 5 Will Delay Interval
  MessageProperties properties;
};

// TLS for mqtts:// and wss:// servers (OpenSSL). The server's certificate is always
// verified against the CAs below, and by default its name against the URI's host.
struct TlsOptions {
  // PEM file and/or hashed directory of trusted CAs; both empty: the system's CAs.
  std::string ca_file;
  std::string ca_path;
  // Client certificate chain and private key (PEM) for mutual TLS; both or neither.
  std::string cert_file;
  std::string key_file;
  // The passphrase of an encrypted key_file. The library never asks for one on a
  // terminal (OpenSSL's default): without it an encrypted key fails start().
  std::string key_password;
  // Skip the check that the certificate names the host we connect to (mosquitto's
  // --insecure). The chain is still verified. For tests only.
  bool insecure = false;
  // Oldest protocol version offered: "tlsv1.2" (default; also empty) or "tlsv1.3", as
  // mosquitto's --tls-version spells them. 1.0 and 1.1 are refused (RFC 8996).
  std::string min_version;
  // OpenSSL cipher list for TLS 1.2 (e.g. "ECDHE-ECDSA-AES256-GCM-SHA384:!aNULL") and
  // the TLS 1.3 cipher suites ("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  // empty: OpenSSL's defaults. A list that selects nothing fails start().
  std::string ciphers;
  std::string ciphersuites;
  // ALPN protocol names offered in the handshake (RFC 7301), most preferred first, e.g.
  // {"mqtt"} for brokers behind a TLS gateway that routes on it (AWS IoT on 443);
  // empty: no ALPN extension. A name is 1..255 bytes, or start() fails.
  std::vector<std::string> alpn;
};

// The optional file store (like Paho's file persistence): QoS 1/2 messages accepted by
// publish() are written to <directory>/<client id>/, one file per message, before
// publish() returns, and removed when the broker has acknowledged them, so messages
// queued or in flight survive a restart or crash of the client process. The next
// Client with the same directory and client id sends them again after its CONNACK:
// those in flight first (same packet id, DUP set when the session was resumed; a QoS 2
// message past PUBREC resumes with PUBREL), then those queued, then new ones.
// Needs a client id and a persistent session (clean_start = false and, with MQTT 5,
// a session_expiry_interval > 0), else start() fails with invalid_argument.
struct FileStoreOptions {
  std::string directory;  // empty: no file store
  // none: write(2) only; survives the process being killed, not the machine losing
  // power. always: fsync(2) the file and its directory on every write, rename and
  // removal (slow: one disk flush per message and per state change).
  enum class Sync : std::uint8_t { none, always };
  Sync sync = Sync::none;
  // Bound on the stored messages' bytes (topic + payload + properties); a publish
  // past it fails with queue_full.
  std::size_t max_bytes = 256 * 1024 * 1024;
};

// MQTT 5 enhanced authentication (MQTT 5.0 section 4.12): a challenge / response
// exchange named by `method` (SCRAM-SHA-256, Kerberos, ...), at CONNECT and again on
// Client::reauthenticate(). The broker's challenges are AUTH packets with reason 0x18
// Continue authentication; each goes to `challenge`, whose answer goes back in an AUTH
// packet of the same method. Both callbacks run on the I/O thread: they compute an answer,
// they must not wait for anything.
struct EnhancedAuth {
  std::string method;  // Authentication Method, sent in CONNECT and every AUTH
  // The Authentication Data that opens an exchange (CONNECT, re-authentication); an
  // empty result sends none. Unset: none.
  std::function<std::string()> initial_data;
  // The broker's Authentication Data -> ours; nullopt gives up (the connection is closed:
  // the CONNECT fails with connect_failed, a re-authentication with its error).
  std::function<std::optional<std::string>(std::string_view data)> challenge;
};

struct ClientOptions {
  // Tried in turn, e.g. "mqtt://broker-a:1883", "mqtts://broker-b:8883",
  // "ws://broker-c:8083/mqtt", "wss://broker-d:8084/mqtt".
  std::vector<std::string> servers{"mqtt://127.0.0.1:1883"};
  TlsOptions tls;  // used by mqtts:// and wss:// servers
  ProtocolVersion version = ProtocolVersion::v5;
  // Empty: the broker assigns one (MQTT 5, or 3.1.1 with clean start) [MQTT-3.1.3-6].
  std::string client_id;
  bool clean_start = true;
  std::chrono::seconds keep_alive{60};  // 0 turns keep-alive off
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<WillOptions> will;
  std::optional<std::uint32_t> session_expiry_interval;  // MQTT 5; absent means 0
  // Our Receive Maximum and Maximum Packet Size, sent in CONNECT (MQTT 5).
  std::uint16_t receive_maximum = 65535;
  std::uint32_t maximum_packet_size = 16 * 1024 * 1024;
  std::vector<std::pair<std::string, std::string>> connect_user_properties;
  // MQTT 5: Request Problem Information (false: the broker sends Reason Strings and
  // User Properties only on PUBLISH, CONNACK and DISCONNECT [MQTT-3.1.2-29]) and
  // Request Response Information (true: the CONNACK may carry Response Information,
  // ConnackInfo::response_information). Sent only when not the protocol's default.
  bool request_problem_information = true;
  bool request_response_information = false;
  std::optional<EnhancedAuth> enhanced_auth;  // MQTT 5 only

  // TCP connect, TLS / WebSocket handshakes and CONNACK, together.
  std::chrono::milliseconds connect_timeout{10'000};
  // Reconnect after a lost connection; the first retry is immediate, later ones wait
  // per `backoff`.
  bool auto_reconnect = true;
  // When false, a client whose very first round through `servers` fails stops and
  // reports the failure through start()'s future (what command-line tools want).
  bool retry_initial_connect = true;
  BackoffOptions backoff;
  // Subscriptions made through the client are re-sent after a reconnect when the
  // broker reports no session present.
  bool restore_subscriptions = true;
  // QoS 1/2 messages waiting for a connection or for the broker's Receive Maximum.
  std::size_t max_queued = 10'000;
  FileStoreOptions store;  // off unless store.directory is set
  // MQTT 5: give the most-published topics aliases when the broker allows them
  // (its Topic Alias Maximum), so repeated topics are not sent in full.
  bool topic_aliases = true;
  // MQTT 5: our Topic Alias Maximum, sent in CONNECT, so the broker may replace
  // repeated topics toward us with aliases; they are resolved per connection
  // [MQTT-3.3.2-10], in a table of at most 1 MiB of topics. 0 turns inbound aliases off.
  std::uint16_t topic_alias_maximum = 16;
  // Inbound QoS 1/2 are acknowledged only when the application calls Client::ack(),
  // so a message is not acknowledged before it has been processed. Acks go out in
  // the order the messages arrived [MQTT-4.6.0-2].
  bool manual_ack = false;
};

}  // namespace cicada::client
