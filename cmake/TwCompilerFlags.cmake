# Warning and sanitizer flag sets, kept in one place.
set(TW_WARNINGS -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wshadow -Wno-gnu-zero-variadic-macro-arguments)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  # GCC does not know the clang-only warning name above. -Wno-format-truncation: report lines are
  # built with snprintf into fixed buffers on purpose (no allocation while reporting); a cut
  # message is acceptable, and GCC cannot tell intended truncation from a bug.
  set(TW_WARNINGS -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wshadow -Wno-format-truncation)
endif()
if(TW_WERROR)
  list(APPEND TW_WARNINGS -Werror)
endif()

# Flags for everything that is NOT the preloaded library (unit tests, CLI, examples).
set(TW_SANITIZE_FLAGS "")
if(TW_SANITIZE)
  set(TW_SANITIZE_FLAGS -fsanitize=${TW_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
endif()

function(tw_sanitized target)
  if(TW_SANITIZE_FLAGS)
    target_compile_options(${target} PRIVATE ${TW_SANITIZE_FLAGS})
    target_link_options(${target} PRIVATE ${TW_SANITIZE_FLAGS})
  endif()
endfunction()
