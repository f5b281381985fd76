#include "broker/auth/answer_cache.hpp"

namespace cicada::broker::auth {
namespace {

// What one entry costs, roughly: its key, the list and index nodes, and its rules.
std::size_t cost(const std::string& key, const AuthAnswer& answer) {
  std::size_t rules = 0;
  if (answer.client) {
    rules = sizeof(ClientAuth);
    for (const ClientRule& rule : answer.client->rules)
      rules += sizeof(ClientRule) + rule.topic.size();
  }
  return key.size() + sizeof(AuthAnswer) + 96 + rules;
}

}  // namespace

std::optional<AuthAnswer> AnswerCache::find(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (it->second->expires <= now) {
    erase(it->second);
    return std::nullopt;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->answer;
}

void AnswerCache::insert(std::string key, AuthAnswer answer, Clock::time_point now) {
  const std::size_t bytes = cost(key, answer);
  if (max_entries_ == 0 || bytes > max_bytes_) return;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) erase(it->second);
  while (!entries_.empty() && (entries_.size() >= max_entries_ || bytes_ + bytes > max_bytes_)) {
    erase(std::prev(entries_.end()));
  }
  entries_.push_front(Entry{std::move(key), std::move(answer), now + ttl_, bytes});
  index_.emplace(entries_.front().key, entries_.begin());
  bytes_ += bytes;
}

void AnswerCache::erase(List::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  entries_.erase(it);
}

std::size_t AnswerCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t AnswerCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace cicada::broker::auth
