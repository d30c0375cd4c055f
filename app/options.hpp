// options: the command line of `synscope` (CLI11), validated into an EngineConfig and output paths.
// Used only by main() on the main thread at start-up; exceptions are fine here.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "consumers/consumers.hpp"
#include "detector/detector.hpp"
#include "engine/engine.hpp"
#include "live/live.hpp"
#include "metrics/web_config.hpp"
#include "packet/packet.hpp"
#include "replay/pipeline.hpp"

namespace synscope::app {

/// Options of `synscope replay`.
struct ReplayOptions {
  replay::ReplayConfig replay;  ///< threads: 2 by default with 2+ usable CPUs
  consumers::ConsumerConfig consumers;
  uint64_t memory_budget_mib = 0;  ///< 0: MemAvailable (memory_budget.hpp)
  bool quiet = false;
};

/// Options of `synscope [EAL options] -- run`.
struct RunOptions {
  live::LiveConfig live;
  live::RunLimits limits;
  std::string clock = "tsc";
  std::string metrics_listen = "127.0.0.1:9355";
  std::string web_config_file;     ///< Prometheus-style web config: TLS and basic auth for --metrics-listen
  metrics::WebConfig web;          ///< loaded from web_config_file by finalize_run_options()
  uint64_t memory_budget_mib = 0;  ///< 0: MemAvailable (memory_budget.hpp)
  bool quiet = false;
  bool dump_config = false;
};

/// Most buckets the options may keep open at once (--bucket-settle / --bucket) and record buckets a detector
/// bucket may sum (--alert-bucket / --bucket).
inline constexpr uint64_t kMaxBucketsHeld = 1'000'000;

/// Registers --alerts-out and the alert policy options (replay and run).
void add_alert_options(CLI::App* cmd, std::string& path, detector::AlertPolicy& policy, std::string& model_file);

/// Registers --ipfix-out, --ipfix-mode, --ipfix-template-refresh and --ipfix-domain (replay and run); a bad
/// URL is a validation error naming the option and the value.
void add_ipfix_options(CLI::App* cmd, consumers::ConsumerConfig& c);

/// Registers the engine options both modes share (buckets, internal nets, checksums, timeouts, capacity).
void add_engine_options(CLI::App* cmd);

/// Registers the `run` subcommand (live mode) with --config (TOML) and --dump-config.
CLI::App* add_run_command(CLI::App& app, RunOptions& out);

/// Validates and converts the run options; throws CLI::ValidationError naming the option and value.
void finalize_run_options(RunOptions& out);

/// A net_pcap vdev reading a capture file (rx_pcap=, without infinite_rx=1) delivers the capture's own
/// times: with the clock left at its default, `run` takes them (--clock packet) instead of timing the
/// packets by their arrival, which would fold hours of capture into seconds. Returns the vdev that decided
/// it ("" when nothing changed). `eal_args` are the arguments before `--`; `clock_given`: --clock was set.
std::string packet_clock_for_pcap_vdevs(RunOptions& out, const std::vector<char*>& eal_args, bool clock_given);

/// Registers the `replay` subcommand and its options on `app`; values land in `out` after parsing and
/// are validated by finalize_replay_options().
CLI::App* add_replay_command(CLI::App& app, ReplayOptions& out);

/// Converts the raw option values into `out` (internal nets, ports, timeouts); throws CLI::ValidationError
/// naming the option and value on any bad value.
void finalize_replay_options(ReplayOptions& out);

}  // namespace synscope::app
