// Client: the public facade over ClientImpl.
#include <cicada/client/client.hpp>

#include "client_impl.hpp"

namespace cicada::client {

namespace {

template <class R>
std::pair<std::function<void(R)>, std::future<R>> promised() {
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  return {[promise](R result) { promise->set_value(std::move(result)); }, std::move(future)};
}

}  // namespace

Client::Client(ClientOptions options) : impl_(std::make_shared<ClientImpl>(std::move(options))) {
  impl_->start_threads();
}

Client::~Client() {
  impl_->shutdown();
}

void Client::on_connection_up(std::function<void(const ConnackInfo&)> callback) {
  impl_->on_up = std::move(callback);
}
void Client::on_connection_down(std::function<void(const Error&)> callback) {
  impl_->on_down = std::move(callback);
}
void Client::on_reconnecting(std::function<void(std::uint32_t, const std::string&)> callback) {
  impl_->on_reconnecting = std::move(callback);
}

void Client::route(std::string filter, MessageHandler handler) {
  impl_->router.add(std::move(filter), std::move(handler));
}
void Client::unroute(std::string_view filter) {
  impl_->router.remove(filter);
}
void Client::on_message(MessageHandler default_handler) {
  impl_->router.set_default(std::move(default_handler));
}

std::future<ConnectResult> Client::start() {
  return impl_->start();
}

std::future<PublishResult> Client::publish(Message message) {
  auto [done, future] = promised<PublishResult>();
  impl_->publish(std::move(message), std::move(done));
  return std::move(future);
}

std::future<SubscribeResult> Client::subscribe(std::vector<SubscribeRequest> requests) {
  auto [done, future] = promised<SubscribeResult>();
  impl_->subscribe(std::move(requests), std::move(done));
  return std::move(future);
}

std::future<SubscribeResult> Client::subscribe(std::vector<SubscribeRequest> requests,
                                               SubscribeProperties properties) {
  auto [done, future] = promised<SubscribeResult>();
  impl_->subscribe(std::move(requests), std::move(done), std::move(properties));
  return std::move(future);
}

std::future<SubscribeResult> Client::subscribe(std::string filter, QoS qos) {
  return subscribe(std::vector<SubscribeRequest>{{.filter = std::move(filter), .qos = qos}});
}

std::future<UnsubscribeResult> Client::unsubscribe(std::vector<std::string> filters) {
  auto [done, future] = promised<UnsubscribeResult>();
  impl_->unsubscribe(std::move(filters), std::move(done));
  return std::move(future);
}

std::future<UnsubscribeResult> Client::unsubscribe(std::vector<std::string> filters,
                                                   UnsubscribeProperties properties) {
  auto [done, future] = promised<UnsubscribeResult>();
  impl_->unsubscribe(std::move(filters), std::move(done), std::move(properties));
  return std::move(future);
}

std::future<Error> Client::reauthenticate() {
  auto [done, future] = promised<Error>();
  impl_->reauthenticate(std::move(done));
  return std::move(future);
}

std::future<void> Client::disconnect(ReasonCode reason) {
  return impl_->disconnect(reason, {});
}

std::future<void> Client::disconnect(ReasonCode reason, DisconnectProperties properties) {
  return impl_->disconnect(reason, std::move(properties));
}

void Client::ack(const ReceivedMessage& message) {
  impl_->ack(message.packet_id, message.qos, message.connection);
}

void Client::on_store_error(std::function<void(const std::string&)> callback) {
  impl_->on_store_error = std::move(callback);
}

std::future<void> Client::drain() {
  return impl_->drain();
}

bool Client::connected() const noexcept {
  return impl_->connected();
}

boost::asio::any_io_executor Client::callback_executor() const {
  return impl_->callback_executor();
}

void Client::publish_with(Message message, Completion<PublishResult> done) {
  impl_->publish(std::move(message), std::move(done));
}
void Client::subscribe_with(std::vector<SubscribeRequest> requests,
                            Completion<SubscribeResult> done, SubscribeProperties properties) {
  impl_->subscribe(std::move(requests), std::move(done), std::move(properties));
}
void Client::unsubscribe_with(std::vector<std::string> filters, Completion<UnsubscribeResult> done,
                              UnsubscribeProperties properties) {
  impl_->unsubscribe(std::move(filters), std::move(done), std::move(properties));
}

}  // namespace cicada::client
