// Interoperability checks with the Eclipse Paho C++ client (Debian's libpaho-mqttpp-dev,
// over the Paho C library). Built and run by test_paho_cpp.py:
//
//   interop SCENARIO tcp://127.0.0.1:PORT VERSION PREFIX
//
// VERSION is 4 (MQTT 3.1.1) or 5; PREFIX makes client ids and topics unique. Each
// scenario prints "ok" and exits 0, or prints what went wrong and exits 1. The
// scenario "will-child" connects with a Will, prints "connected" and waits to be
// killed, so that the test can end it without a DISCONNECT.
#include <mqtt/async_client.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr auto kTimeout = 30s;  // generous: the broker may be a Debug + ASan build
constexpr auto kQuiet = 1s;     // silence taken as "nothing more is coming"

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(bool condition, const std::string& what) {
  if (!condition) throw Failure(what);
}

struct Args {
  std::string uri;
  int version = 5;
  std::string prefix;
};

// One connected client with its incoming messages queued for consume_message().
class Client {
 public:
  Client(const Args& args, const std::string& name, bool clean = true,
         std::optional<mqtt::message> will = std::nullopt, std::uint32_t session_expiry = 0)
      : version_(args.version),
        client_(args.uri, args.prefix + "-" + name,
                mqtt::create_options(args.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)) {
    auto builder = mqtt::connect_options_builder();
    builder.mqtt_version(version_ == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)
        .keep_alive_interval(60s)
        .automatic_reconnect(false);
    if (version_ == 5) {
      builder.clean_start(clean);
      if (session_expiry != 0) {
        builder.properties(mqtt::properties{mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                                                           static_cast<int>(session_expiry))});
      }
    } else {
      builder.clean_session(clean);
    }
    if (will) builder.will(*will);
    client_.start_consuming();
    auto token = client_.connect(builder.finalize());
    check(token->wait_for(kTimeout), "no CONNACK");
    session_present_ = token->get_connect_response().is_session_present();
  }

  ~Client() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(kTimeout);
    } catch (const mqtt::exception&) {
    }
  }

  bool session_present() const { return session_present_; }

  void subscribe(const std::string& filter, int qos,
                 const mqtt::subscribe_options& options = mqtt::subscribe_options()) {
    auto token = client_.subscribe(filter, qos, options);
    check(token->wait_for(kTimeout), "no SUBACK for " + filter);
  }

  void publish(const std::string& topic, const std::string& payload, int qos, bool retain = false,
               const mqtt::properties& properties = mqtt::properties()) {
    auto message = mqtt::message_ptr_builder()
                       .topic(topic)
                       .payload(payload)
                       .qos(qos)
                       .retained(retain)
                       .properties(properties)
                       .finalize();
    check(client_.publish(message)->wait_for(kTimeout), "publish to " + topic + " not completed");
  }

  // The next message, or null after `timeout`.
  mqtt::const_message_ptr receive(std::chrono::milliseconds timeout = kTimeout) {
    mqtt::const_message_ptr message;
    if (!client_.try_consume_message_for(&message, timeout)) return nullptr;
    return message;
  }

  mqtt::const_message_ptr expect(const std::string& what) {
    auto message = receive();
    check(message != nullptr, "no message: " + what);
    return message;
  }

  void expect_nothing(const std::string& what) {
    auto message = receive(kQuiet);
    check(message == nullptr,
          "unexpected message (" + what + "): " +
              (message ? message->get_topic() + " " + message->to_string() : std::string()));
  }

  void disconnect() { check(client_.disconnect()->wait_for(kTimeout), "DISCONNECT not completed"); }

 private:
  int version_;
  mqtt::async_client client_;
  bool session_present_ = false;
};

// QoS 0, 1 and 2 both ways: ten messages at each QoS, received once each, in order,
// at the lower of the published and the subscribed QoS.
void qos(const Args& args) {
  for (int sub_qos = 0; sub_qos <= 2; ++sub_qos) {
    const std::string topic = args.prefix + "/qos/" + std::to_string(sub_qos);
    Client subscriber(args, "sub" + std::to_string(sub_qos));
    subscriber.subscribe(topic, sub_qos);
    Client publisher(args, "pub" + std::to_string(sub_qos));
    for (int pub_qos = 0; pub_qos <= 2; ++pub_qos) {
      for (int i = 0; i < 10; ++i) {
        publisher.publish(topic, std::to_string(pub_qos) + ":" + std::to_string(i), pub_qos);
      }
    }
    for (int pub_qos = 0; pub_qos <= 2; ++pub_qos) {
      for (int i = 0; i < 10; ++i) {
        const std::string want = std::to_string(pub_qos) + ":" + std::to_string(i);
        auto message = subscriber.expect(want);
        check(message->to_string() == want, "expected " + want + ", got " + message->to_string());
        check(message->get_qos() == std::min(pub_qos, sub_qos),
              want + " arrived at QoS " + std::to_string(message->get_qos()));
      }
    }
    subscriber.expect_nothing("a duplicate");
  }
}

// Retained: stored, replaced, delivered with the flag on subscribe, deleted by an
// empty payload.
void retained(const Args& args) {
  const std::string topic = args.prefix + "/retained";
  Client publisher(args, "pub");
  publisher.publish(topic, "first", 1, true);
  publisher.publish(topic, "second", 1, true);
  {
    Client subscriber(args, "late");
    subscriber.subscribe(topic, 1);
    auto message = subscriber.expect("the retained message");
    check(message->to_string() == "second", "retained: got " + message->to_string());
    check(message->is_retained(), "retained message without RETAIN");
    subscriber.expect_nothing("a second retained message");
    publisher.publish(topic, "live", 1, true);
    message = subscriber.expect("a live message");
    check(!message->is_retained(), "live message to an established subscription kept RETAIN");
  }
  publisher.publish(topic, "", 1, true);
  Client fresh(args, "fresh");
  fresh.subscribe(topic, 1);
  fresh.expect_nothing("a deleted retained message");
}

// MQTT 5 properties arrive as sent; user properties in order.
void properties(const Args& args) {
  const std::string topic = args.prefix + "/props";
  Client subscriber(args, "sub");
  subscriber.subscribe(topic, 1);
  Client publisher(args, "pub");
  mqtt::properties sent{
      mqtt::property(mqtt::property::PAYLOAD_FORMAT_INDICATOR, 1),
      mqtt::property(mqtt::property::MESSAGE_EXPIRY_INTERVAL, 600),
      mqtt::property(mqtt::property::CONTENT_TYPE, "text/plain"),
      mqtt::property(mqtt::property::RESPONSE_TOPIC, topic + "/reply"),
      mqtt::property(mqtt::property::CORRELATION_DATA, std::string("id-42")),
      mqtt::property(mqtt::property::USER_PROPERTY, "b", "2"),
      mqtt::property(mqtt::property::USER_PROPERTY, "a", "1"),
      mqtt::property(mqtt::property::USER_PROPERTY, "b", "3"),
  };
  publisher.publish(topic, "hello", 1, false, sent);
  auto message = subscriber.expect("the message with properties");
  const mqtt::properties& got = message->get_properties();
  check(mqtt::get<std::uint8_t>(got, mqtt::property::PAYLOAD_FORMAT_INDICATOR) == 1,
        "payload format indicator");
  const auto expiry = mqtt::get<std::uint32_t>(got, mqtt::property::MESSAGE_EXPIRY_INTERVAL);
  check(expiry > 0 && expiry <= 600, "message expiry interval " + std::to_string(expiry));
  check(mqtt::get<std::string>(got, mqtt::property::CONTENT_TYPE) == "text/plain", "content type");
  check(mqtt::get<std::string>(got, mqtt::property::RESPONSE_TOPIC) == topic + "/reply",
        "response topic");
  check(mqtt::get<std::string>(got, mqtt::property::CORRELATION_DATA) == "id-42",
        "correlation data");
  std::vector<std::string> users;
  for (std::size_t i = 0; i < got.count(mqtt::property::USER_PROPERTY); ++i) {
    auto [name, value] = mqtt::get<mqtt::string_pair>(got, mqtt::property::USER_PROPERTY, i);
    users.push_back(name + "=" + value);
  }
  std::ostringstream joined;
  for (const auto& user : users)
    joined << user << ' ';
  check(users == std::vector<std::string>{"b=2", "a=1", "b=3"}, "user properties: " + joined.str());
}

// A persistent session: subscribe, disconnect, a QoS 1 message meanwhile, reconnect
// with Session Present and the message.
void session(const Args& args) {
  const std::string topic = args.prefix + "/session";
  {
    Client first(args, "persistent", false, std::nullopt, 300);
    check(!first.session_present(), "a new session reported as present");
    first.subscribe(topic, 1);
    first.disconnect();
  }
  Client(args, "pub").publish(topic, "while away", 1);
  Client back(args, "persistent", false, std::nullopt, 300);
  check(back.session_present(), "the session was not resumed");
  auto message = back.expect("the queued message");
  check(message->to_string() == "while away", "queued: got " + message->to_string());
  check(message->get_qos() == 1, "queued message QoS");
}

// Shared subscription: each message to exactly one member, every member some.
void shared(const Args& args) {
  const std::string topic = args.prefix + "/shared";
  std::vector<std::unique_ptr<Client>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(std::make_unique<Client>(args, "member" + std::to_string(i)));
    members.back()->subscribe("$share/cpp/" + topic, 1);
  }
  Client publisher(args, "pub");
  for (int i = 0; i < 30; ++i)
    publisher.publish(topic, std::to_string(i), 1);
  std::multiset<int> seen;
  for (auto& member : members) {
    int count = 0;
    while (auto message = member->receive(kQuiet)) {
      seen.insert(std::stoi(message->to_string()));
      ++count;
    }
    check(count > 0, "a member of the group got nothing");
  }
  std::multiset<int> want;
  for (int i = 0; i < 30; ++i)
    want.insert(i);
  check(seen == want, "shared group: " + std::to_string(seen.size()) + " deliveries, not 30 once");
}

// Subscription options (MQTT 5): No Local and Retain As Published.
void subscribe_options(const Args& args) {
  const std::string topic = args.prefix + "/options";
  Client me(args, "me");
  me.subscribe(topic, 1, mqtt::subscribe_options(mqtt::subscribe_options::SUBSCRIBE_NO_LOCAL));
  Client keeper(args, "keeper");
  keeper.subscribe(topic, 1,
                   mqtt::subscribe_options(false, mqtt::subscribe_options::RETAIN_AS_PUBLISHED));
  me.publish(topic, "mine", 1, true);
  me.expect_nothing("No Local");
  auto message = keeper.expect("the retained publish");
  check(message->is_retained(), "Retain As Published cleared RETAIN");
  me.publish(topic, "", 1, true);
}

// Connects with a Will and waits to be killed.
[[noreturn]] void will_child(const Args& args) {
  mqtt::message will(args.prefix + "/will", "cpp client died", 1, false);
  Client client(args, "dying", true, will);
  std::cout << "connected" << std::endl;
  for (;;)
    std::this_thread::sleep_for(1h);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: " << argv[0] << " SCENARIO URI VERSION PREFIX\n";
    return 2;
  }
  const std::string scenario = argv[1];
  const Args args{argv[2], std::atoi(argv[3]), argv[4]};
  const std::map<std::string, std::function<void(const Args&)>> scenarios{
      {"qos", qos},
      {"retained", retained},
      {"properties", properties},
      {"session", session},
      {"shared", shared},
      {"subscribe-options", subscribe_options},
      {"will-child", will_child}};
  auto it = scenarios.find(scenario);
  if (it == scenarios.end()) {
    std::cerr << "unknown scenario " << scenario << "\n";
    return 2;
  }
  try {
    it->second(args);
  } catch (const Failure& failure) {
    std::cout << "FAILED: " << failure.what() << std::endl;
    return 1;
  } catch (const mqtt::exception& error) {
    std::cout << "FAILED: Paho error: " << error.what() << std::endl;
    return 1;
  }
  std::cout << "ok" << std::endl;
  return 0;
}
