// synscope: watches every TCP session on a link, judges how it was set up and torn down, and counts the
// failed ones per time bucket. main() is thin: parse the command line, run the chosen mode, map every
// start-up error to one clear message and exit code.
//
// Live mode follows DPDK's convention: `synscope [EAL options] -- run [options]`. Everything before `--`
// goes to rte_eal_init() untouched; synscope's own options are parsed (and --dump-config answered) before
// EAL starts, so a bad value never touches a port.
#include <rte_eal.h>
#include <rte_errno.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "backtest.hpp"
#include "capture/capture.hpp"
#include "options.hpp"
#include "replay.hpp"
#include "run.hpp"

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }
}  // namespace

int main(int argc, char** argv) {
  using namespace synscope::app;
  // Split EAL arguments from ours at the first `--` when it is followed by our `run` command.
  std::vector<char*> eal_args = {argv[0]};
  std::vector<char*> app_args = {argv[0]};
  int split = -1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0 && std::strcmp(argv[i + 1], "run") == 0) {
      split = i;
      break;
    }
  }
  for (int i = 1; i < argc; ++i) {
    if (split < 0 || i > split) {
      app_args.push_back(argv[i]);
    } else if (i < split) {
      eal_args.push_back(argv[i]);
    }
  }

  CLI::App app{"synscope: TCP session verdicts and failed-session anomaly detection"};
  app.require_subcommand(1);
  app.footer("Live mode: synscope [EAL options] -- run [options], e.g.\n"
             "  synscope -l 0-1 --no-huge -m 512 --no-pci --vdev net_pcap0,rx_pcap=FILE -- run --clock packet");
  ReplayOptions replay;
  CLI::App* replay_cmd = add_replay_command(app, replay);
  BacktestOptions backtest;
  CLI::App* backtest_cmd = add_backtest_command(app, backtest);
  RunOptions run;
  CLI::App* run_cmd = add_run_command(app, run);
  app.set_config("--config", "", "TOML file of `run` options under a [run] section (keys: the long option names)")
      ->check(CLI::ExistingFile);
  app.allow_config_extras(false);  // an unknown or misplaced key in the file is an error, not ignored

  try {
    app.parse(static_cast<int>(app_args.size()), app_args.data());
    if (replay_cmd->parsed()) finalize_replay_options(replay);
    if (run_cmd->parsed()) finalize_run_options(run);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (run_cmd->parsed() && run.dump_config) {
    std::cout << run_cmd->config_to_str(true, true);
    return kExitOk;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (run_cmd->parsed()) {
    const int consumed = rte_eal_init(static_cast<int>(eal_args.size()), eal_args.data());
    if (consumed < 0) {
      std::fprintf(stderr, "synscope: error: EAL initialisation failed: %s (check the EAL options before '--')\n",
                   rte_strerror(rte_errno));
      return kExitUsage;
    }
    int rc = kExitUsage;
    try {
      rc = run_live(run, g_stop);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "synscope: error: %s\n", e.what());
      rc = kExitInput;
    }
    rte_eal_cleanup();
    return rc;
  }
  try {
    if (replay_cmd->parsed()) return run_replay(replay, g_stop);
    if (backtest_cmd->parsed()) return run_backtest(backtest);
  } catch (const synscope::capture::CaptureError& e) {
    std::fprintf(stderr, "synscope: error: %s\n", e.what());
    return kExitInput;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "synscope: error: %s\n", e.what());
    return backtest_cmd->parsed() ? kExitInput : kExitOutput;
  }
  return kExitUsage;
}
