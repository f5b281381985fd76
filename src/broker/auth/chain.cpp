#include "broker/auth/chain.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace cicada::broker::auth {

using codec::ReasonCode;

AuthChain::AuthChain(ChainSettings settings,
                     std::vector<std::shared_ptr<const Authenticator>> authenticators,
                     std::vector<std::shared_ptr<const Authorizer>> authorizers)
    : settings_(std::move(settings)),
      allows_everything_(
          authenticators.empty() && authorizers.empty() && settings_.no_match_allow &&
          std::all_of(settings_.allow_anonymous.begin(), settings_.allow_anonymous.end(),
                      [](const auto& entry) { return entry.second; })),
      brake_(settings_.failure_brake),
      steps_(
          std::make_shared<const Steps>(Steps{std::move(authenticators), std::move(authorizers)})) {
}

bool AuthChain::anonymous_allowed(const std::string& listener) const {
  const auto it = settings_.allow_anonymous.find(listener);
  return it == settings_.allow_anonymous.end() || it->second;
}

void AuthChain::authenticate(const ConnectRequest& request,
                             std::function<void(AuthDecision)> done) {
  if (brake_.enabled()) {
    const std::string_view address = split_peer(request.peer_host).first;
    if (brake_.banned(address, FailureBrake::Clock::now())) {
      return done(AuthDecision{.allowed = false, .reason = ReasonCode::banned});
    }
    // Every refusal counts towards the address's ban, whichever step gave it.
    done = [this, address = std::string(address), done = std::move(done)](AuthDecision d) {
      if (!d.allowed && brake_.failed(address, FailureBrake::Clock::now())) {
        spdlog::warn(
            "authentication: {} banned for {} s after {} failed authentications within "
            "{} s (node.auth_failure_limit)",
            address, settings_.failure_brake.ban.count() / 1000, settings_.failure_brake.limit,
            settings_.failure_brake.window.count() / 1000);
      }
      done(std::move(d));
    };
  }
  // The request is shared by the steps, which may answer later on another thread. The
  // listener's list lives in settings_, which outlives every request.
  const auto listed = settings_.listener_authenticators.find(request.listener);
  const std::vector<std::size_t>* order =
      listed == settings_.listener_authenticators.end() ? nullptr : &listed->second;
  authenticate_from(steps_.load(std::memory_order_acquire), order, 0,
                    std::make_shared<const ConnectRequest>(request), std::move(done));
}

void AuthChain::authenticate_from(StepsPtr steps, const std::vector<std::size_t>* order,
                                  std::size_t index, std::shared_ptr<const ConnectRequest> request,
                                  std::function<void(AuthDecision)> done) const {
  const std::size_t count = order != nullptr ? order->size() : steps->authenticators.size();
  if (index == count) {
    // Nobody recognised the client: anonymous.
    const bool unchecked = !request->username || count == 0;
    if (unchecked && anonymous_allowed(request->listener)) return done(AuthDecision{});
    return done(AuthDecision{.allowed = false,
                             .reason = request->username ? ReasonCode::bad_user_name_or_password
                                                         : ReasonCode::not_authorized});
  }
  const Authenticator& step = *steps->authenticators[order != nullptr ? (*order)[index] : index];
  step.authenticate(*request, [this, steps, order, index, request,
                               done = std::move(done)](AuthAnswer answer) mutable {
    switch (answer.verdict) {
      case Verdict::allow:
        // An answer that expired already (HTTP expire_at in the past) lets nobody in: EMQX's
        // emqx_authn_http refuses it ("'expire_at' is in the past") with
        // bad_username_or_password, 0x86.
        if (answer.client && answer.client->expire_at &&
            *answer.client->expire_at < unix_seconds_now()) {
          return done(
              AuthDecision{.allowed = false, .reason = ReasonCode::bad_user_name_or_password});
        }
        return done(
            AuthDecision{.superuser = answer.superuser, .client = std::move(answer.client)});
      case Verdict::deny:
        return done(AuthDecision{.allowed = false, .reason = answer.deny_reason});
      case Verdict::ignore:
        return authenticate_from(std::move(steps), order, index + 1, std::move(request),
                                 std::move(done));
    }
  });
}

void AuthChain::authorize(const AccessRequest& request, std::function<void(bool allowed)> done) {
  if (request.superuser) return done(true);  // vouched for at CONNECT (file, HTTP)
  // The client's own rules come first (EMQX 5.8: the authentication answer's ACL is
  // checked before the authorization sources); no match falls through to the chain.
  if (request.client != nullptr) {
    const Verdict verdict = request.client->check(request);
    if (verdict != Verdict::ignore) return done(verdict == Verdict::allow);
  }
  StepsPtr steps = steps_.load(std::memory_order_acquire);
  if (steps->authorizers.empty()) return done(settings_.no_match_allow);
  authorize_from(std::move(steps), 0, std::make_shared<const AccessRequest>(request),
                 std::move(done));
}

void AuthChain::authorize_from(StepsPtr steps, std::size_t index,
                               std::shared_ptr<const AccessRequest> request,
                               std::function<void(bool)> done) const {
  if (index == steps->authorizers.size()) return done(settings_.no_match_allow);
  const Authorizer& step = *steps->authorizers[index];
  step.authorize(
      *request, [this, steps, index, request, done = std::move(done)](Verdict verdict) mutable {
        if (verdict == Verdict::ignore) {
          return authorize_from(std::move(steps), index + 1, std::move(request), std::move(done));
        }
        done(verdict == Verdict::allow);
      });
}

std::vector<std::string> AuthChain::reload() {
  std::lock_guard lock(reload_mutex_);
  const StepsPtr current = steps_.load(std::memory_order_acquire);
  auto next = std::make_shared<Steps>(*current);
  std::vector<std::string> errors;
  for (auto& step : next->authenticators) {
    auto fresh = step->reloaded();
    if (fresh) {
      step = std::move(*fresh);
    } else {
      errors.push_back(std::string(step->name()) + ": " + fresh.error());
    }
  }
  for (auto& step : next->authorizers) {
    auto fresh = step->reloaded();
    if (fresh) {
      step = std::move(*fresh);
    } else {
      errors.push_back(std::string(step->name()) + ": " + fresh.error());
    }
  }
  steps_.store(std::move(next), std::memory_order_release);
  return errors;
}

}  // namespace cicada::broker::auth
