// Counts this thread's heap allocations (alloc_hook.cpp replaces the global operator
// new in the unit_bench_tool binary), to prove the per-message paths allocate nothing.
#pragma once

#include <cstddef>

namespace cicada::bench::testing {

std::size_t allocations() noexcept;

template <class F>
std::size_t count_allocations(F&& body) {
  const std::size_t before = allocations();
  body();
  return allocations() - before;
}

}  // namespace cicada::bench::testing
