// options: the command line of `synscope` (CLI11), validated into an EngineConfig and output paths.
// Used only by main() on the main thread at start-up; exceptions are fine here.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "engine/engine.hpp"
#include "packet/packet.hpp"

namespace synscope::app {

struct ReplayOptions {
  std::string capture;
  std::string sessions_out;
  std::string buckets_out;
  bool quiet = false;
  unsigned threads = 1;  ///< 1: one thread does everything; 2: reader/classifier + engine worker
  packet::ParseOptions parse;
  engine::EngineConfig engine;
};

/// Registers the `replay` subcommand and its options on `app`; values land in `out` after parsing and
/// are validated by finalize_replay_options().
CLI::App* add_replay_command(CLI::App& app, ReplayOptions& out);

/// Converts the raw option values into `out` (internal nets, ports, timeouts); throws CLI::ValidationError
/// naming the option and value on any bad value.
void finalize_replay_options(ReplayOptions& out);

}  // namespace synscope::app
