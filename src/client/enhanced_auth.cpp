// MQTT 5 enhanced authentication (MQTT 5.0 section 4.12) on the client: answering the
// broker's AUTH challenges at CONNECT and during a re-authentication the application
// started with Client::reauthenticate().
#include "client_impl.hpp"

namespace cicada::client {

Expected<std::string, std::string> ClientImpl::answer_challenge(const codec::Auth& auth) {
  // [MQTT-4.12.0-6] no AUTH for a client that asked for no method; [MQTT-4.12.0-5] every
  // AUTH names the CONNECT's method.
  if (!options_.enhanced_auth) {
    return unexpected(
        std::string("the broker sent AUTH, but no authentication method was asked for"));
  }
  const EnhancedAuth& auth_options = *options_.enhanced_auth;
  const auto& method = auth.properties.authentication_method;
  if (!method || *method != auth_options.method) {
    return unexpected("the broker's AUTH names method '" + std::string(method.value_or("")) +
                      "', not '" + auth_options.method + "'");
  }
  if (auth.reason_code != ReasonCode::continue_authentication) {
    return unexpected("unexpected AUTH reason " + std::string(codec::to_string(auth.reason_code)));
  }
  const std::string_view data = auth.properties.authentication_data.value_or("");
  std::optional<std::string> ours =
      auth_options.challenge ? auth_options.challenge(data) : std::nullopt;
  if (!ours) return unexpected(std::string("authentication given up on the broker's challenge"));
  return std::move(*ours);
}

codec::Auth ClientImpl::auth_packet(ReasonCode reason, const std::string& data) const {
  codec::Auth auth{.reason_code = reason};
  auth.properties.authentication_method = options_.enhanced_auth->method;
  if (!data.empty()) auth.properties.authentication_data = data;
  return auth;  // views `data` and the options: encode it before either goes
}

void ClientImpl::reauthenticate(std::function<void(Error)> done) {
  asio::post(io_, [this, done = std::move(done)]() mutable {
    if (version_ != ProtocolVersion::v5 || !options_.enhanced_auth) {
      return done(Error{ErrorKind::invalid_argument, ReasonCode::success,
                        "re-authentication needs MQTT 5 and ClientOptions::enhanced_auth"});
    }
    if (!conn_ || !conn_->open || !connected_) {
      return done(Error{ErrorKind::not_connected, ReasonCode::success, "not connected"});
    }
    if (conn_->reauthenticating) {
      return done(Error{ErrorKind::invalid_argument, ReasonCode::success,
                        "a re-authentication is already under way"});
    }
    // [MQTT-4.12.1-1] AUTH 0x19 with the method the CONNECT used.
    const EnhancedAuth& auth = *options_.enhanced_auth;
    conn_->reauthenticating = std::move(done);
    const std::string data = auth.initial_data ? auth.initial_data() : std::string();
    send(auth_packet(ReasonCode::re_authenticate, data));
  });
}

void ClientImpl::on_auth(const std::shared_ptr<Connection>& conn, const codec::Auth& auth) {
  if (conn != conn_) return;
  // The DISCONNECT is flushed before the socket closes; the closing completes the
  // re-authentication's waiter with `conn->error`.
  auto fail = [&](std::string why) {
    protocol_violation(ReasonCode::protocol_error, std::move(why));
  };
  if (!conn->reauthenticating) {
    return fail("AUTH from the broker while no re-authentication was asked for");
  }
  if (auth.reason_code == ReasonCode::success) {
    const auto& method = auth.properties.authentication_method;
    if (!method || *method != options_.enhanced_auth->method) {
      return fail("the broker's AUTH names another authentication method");  // [MQTT-4.12.0-5]
    }
    auto done = std::move(conn->reauthenticating);
    conn->reauthenticating = nullptr;
    return done(Error{});
  }
  auto answer = answer_challenge(auth);
  if (!answer) {
    // Giving up is not the broker's fault: end the connection as not authorized.
    send(codec::Disconnect{.reason_code = ReasonCode::not_authorized});
    conn->close_after_flush = true;
    conn->error = Error{ErrorKind::rejected, ReasonCode::not_authorized, answer.error()};
    schedule_flush(conn);
    return;
  }
  send(auth_packet(ReasonCode::continue_authentication, *answer));
}

}  // namespace cicada::client
