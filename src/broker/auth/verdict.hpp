// One step's answer in an authentication or authorization chain (EMQX's allow / deny /
// ignore): `ignore` passes the question to the next step.
// Thread-safety: a plain value type.
#pragma once

#include <cstdint>
#include <string_view>

namespace cicada::broker::auth {

enum class Verdict : std::uint8_t { allow, deny, ignore };

constexpr std::string_view to_string(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::allow:
      return "allow";
    case Verdict::deny:
      return "deny";
    case Verdict::ignore:
      return "ignore";
  }
  return "?";
}

}  // namespace cicada::broker::auth
