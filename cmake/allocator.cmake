# The broker's allocator. A message is allocated by the worker that read it and freed
# by the worker that wrote it to the subscriber; glibc's malloc then takes the
# allocating arena's lock on every such free, and on fan-in the two workers spent a
# fifth of their CPU waiting on each other's arena (futex wake/wait, perf record of
# docs/performance.md's fan-in). jemalloc (Debian's libjemalloc-dev) batches frees
# from other threads in its thread caches. Not under the sanitizers, which bring
# their own allocator.
if(CICADA_SANITIZE OR CICADA_FUZZ)
  set(cicada_jemalloc_default OFF)
else()
  set(cicada_jemalloc_default ON)
endif()
option(CICADA_JEMALLOC "Link the broker with jemalloc" ${cicada_jemalloc_default})

if(CICADA_JEMALLOC)
  if(CICADA_SANITIZE)
    message(FATAL_ERROR "CICADA_JEMALLOC and CICADA_SANITIZE do not go together")
  endif()
  find_library(CICADA_JEMALLOC_LIBRARY jemalloc)
  if(NOT CICADA_JEMALLOC_LIBRARY)
    message(FATAL_ERROR "jemalloc not found: run scripts/setup (Debian's libjemalloc-dev), "
                        "or configure with -DCICADA_JEMALLOC=OFF")
  endif()
endif()

# Links `target` with the broker's allocator, when it is jemalloc.
function(cicada_use_allocator target)
  if(CICADA_JEMALLOC)
    target_link_libraries(${target} PRIVATE ${CICADA_JEMALLOC_LIBRARY})
    target_compile_definitions(${target} PRIVATE CICADA_JEMALLOC=1)
  endif()
endfunction()
