// output_paths: the start-up checks on where the consumers will write, made before anything is opened
// or truncated: two outputs naming one file, and a model file that could not be saved at the end.
//
// Called once, on the thread that builds the consumers. Throws Error; thread-safe (no state).
#pragma once

#include "consumers/consumers.hpp"

namespace synscope::consumers {

/// Throws Error (ErrorKind::kUsage) when two of --sessions-out, --buckets-out, --alerts-out and
/// --model-file name one file (compared by device and inode when it exists, else by the real path of its
/// directory and its name, so `x`, `./x` and a symlink to it are one file; stdout, "-", may be shared by
/// the outputs, and so may a character device such as /dev/null), and Error (ErrorKind::kOutput) when the model file could not be saved: its directory
/// refuses a new file (the save writes `<model>.tmp` and renames it) or the path is not a regular file.
void check_output_paths(const ConsumerConfig& config);

}  // namespace synscope::consumers
