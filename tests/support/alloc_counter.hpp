// Counts heap allocations made by the current thread, by replacing the global
// operator new. Link alloc_counter.cpp into a binary to use it; tests and benchmarks
// use it to prove a path allocates nothing.
// Thread-safety: the counter is thread-local.
#pragma once

#include <cstddef>

namespace cicada::testing {

// Allocations made by this thread since it started.
std::size_t allocation_count() noexcept;

// Allocations made by this thread while `body` runs.
template <class F>
std::size_t count_allocations(F&& body) {
  std::size_t before = allocation_count();
  body();
  return allocation_count() - before;
}

}  // namespace cicada::testing
