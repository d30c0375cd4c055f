// uid_text: a session uid number as Zeek-style connection uid text ("C" + base 62), for the record writers.
// Pure and allocation-free; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace synscope::engine {

/// Writes the uid text of `uid` into `buf` (at least 16 bytes); returns its length.
size_t format_uid(uint64_t uid, char* buf) noexcept;

}  // namespace synscope::engine
