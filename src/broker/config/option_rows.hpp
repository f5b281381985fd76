// The building blocks of the options tables: accessors from a row to its field, and one
// constexpr builder per option type. Private to src/broker/config (options.cpp and
// auth_options.cpp hold the tables).
// Thread-safety: constexpr data and pure functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "broker/config/options.hpp"

namespace cicada::broker::config::rows {

template <class M>
struct MemberTraits;
template <class C, class T>
struct MemberTraits<T C::*> {
  using Class = C;
  using Type = T;
};
template <auto Member>
using ClassOf = typename MemberTraits<decltype(Member)>::Class;
template <auto Member>
using TypeOf = typename MemberTraits<decltype(Member)>::Type;

// Accessors. Values reach a setter only after the loader has checked them against the row's
// type and bounds, so the narrowing casts below cannot lose information.
template <auto Member>
void set_bool(ClassOf<Member>& target, const OptionValue& value) {
  target.*Member = std::get<bool>(value);
}
template <auto Member>
OptionValue get_bool(const ClassOf<Member>& target) {
  return target.*Member;
}
template <auto Member>
void set_number(ClassOf<Member>& target, const OptionValue& value) {
  target.*Member = static_cast<TypeOf<Member>>(std::get<std::uint64_t>(value));
}
template <auto Member>
OptionValue get_number(const ClassOf<Member>& target) {
  return static_cast<std::uint64_t>(target.*Member);
}
template <auto Member>
void set_string(ClassOf<Member>& target, const OptionValue& value) {
  target.*Member = std::get<std::string>(value);
}
template <auto Member>
OptionValue get_string(const ClassOf<Member>& target) {
  return target.*Member;
}
// An enum class field whose enumerators are numbered like `Choices`.
template <auto Member, const auto& Choices>
void set_enum(ClassOf<Member>& target, const OptionValue& value) {
  const auto& text = std::get<std::string>(value);
  const auto it = std::find(Choices.begin(), Choices.end(), text);
  target.*Member = static_cast<TypeOf<Member>>(it - Choices.begin());
}
template <auto Member, const auto& Choices>
OptionValue get_enum(const ClassOf<Member>& target) {
  return std::string(Choices[static_cast<std::size_t>(target.*Member)]);
}

constexpr bool reloadable = true;
constexpr bool restart = false;  // needs a restart to change

template <auto Member>
constexpr OptionSpec<ClassOf<Member>> boolean(std::string_view key, std::string_view default_value,
                                              bool reload, std::string_view description) {
  return {.key = key,
          .type = OptionType::boolean,
          .default_value = default_value,
          .reloadable = reload,
          .description = description,
          .set = set_bool<Member>,
          .get = get_bool<Member>};
}

// Integers, sizes and durations (durations in seconds unless `milliseconds`).
template <auto Member>
constexpr OptionSpec<ClassOf<Member>> number(OptionType type, std::string_view key,
                                             std::string_view default_value, std::uint64_t min,
                                             std::uint64_t max, bool reload,
                                             std::string_view description,
                                             bool milliseconds = false) {
  // Evaluated at compile time for the constexpr tables below: bounds that do not fit the
  // field fail the build instead of truncating at run time.
  if (min > max || max > std::numeric_limits<TypeOf<Member>>::max()) {
    throw "option bounds do not fit the Config field";
  }
  return {.key = key,
          .type = type,
          .default_value = default_value,
          .min = min,
          .max = max,
          .reloadable = reload,
          .milliseconds = milliseconds,
          .description = description,
          .set = set_number<Member>,
          .get = get_number<Member>};
}

template <auto Member>
constexpr OptionSpec<ClassOf<Member>> text(std::string_view key, std::string_view default_value,
                                           std::uint64_t max_length, bool reload,
                                           std::string_view description) {
  return {.key = key,
          .type = OptionType::string,
          .default_value = default_value,
          .max = max_length,
          .reloadable = reload,
          .description = description,
          .set = set_string<Member>,
          .get = get_string<Member>};
}

// An enumeration stored as an enum class (numbered like `Choices`) or as its text.
template <auto Member, const auto& Choices>
constexpr OptionSpec<ClassOf<Member>> choice(std::string_view key, std::string_view default_value,
                                             bool reload, std::string_view description) {
  OptionSpec<ClassOf<Member>> spec{.key = key,
                                   .type = OptionType::enumeration,
                                   .default_value = default_value,
                                   .reloadable = reload,
                                   .choices = Choices,
                                   .description = description};
  if constexpr (std::is_enum_v<TypeOf<Member>>) {
    spec.set = set_enum<Member, Choices>;
    spec.get = get_enum<Member, Choices>;
  } else {
    spec.set = set_string<Member>;
    spec.get = get_string<Member>;
  }
  return spec;
}

// A list of names, passed around as "a,b" (see OptionType::names).
template <auto Member>
void set_names(ClassOf<Member>& target, const OptionValue& value) {
  target.*Member = split_names(std::get<std::string>(value));
}
template <auto Member>
OptionValue get_names(const ClassOf<Member>& target) {
  return join_names(target.*Member);
}
template <auto Member>
constexpr OptionSpec<ClassOf<Member>> names(std::string_view key, bool reload,
                                            std::string_view description) {
  return {.key = key,
          .type = OptionType::names,
          .default_value = "",
          .reloadable = reload,
          .description = description,
          .set = set_names<Member>,
          .get = get_names<Member>};
}

constexpr std::uint64_t kU16 = 65535;
constexpr std::uint64_t kU32 = 4'294'967'295;
// [MQTT-2.2.3]: a Remaining Length of at most 268,435,455 plus the 5-byte fixed header.
constexpr std::uint64_t kMaxMqttPacket = 268'435'460;

}  // namespace cicada::broker::config::rows
