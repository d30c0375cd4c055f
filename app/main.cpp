// synscope: watches every TCP session on a link, judges how it was set up and torn down, and counts the
// failed ones per time bucket. main() is thin: parse the command line, run the chosen mode, map every
// start-up error to one clear message and exit code.
//
// Live mode follows DPDK's convention: `synscope [EAL options] -- run [options]`. Everything before `--`
// goes to rte_eal_init() untouched; synscope's own options are parsed (and --dump-config answered) before
// EAL starts, so a bad value never touches a port.
#include <dirent.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "backtest.hpp"
#include "error/error.hpp"
#include "options.hpp"
#include "replay.hpp"
#include "run.hpp"
#include "signals.hpp"
#include "top.hpp"
#include "vdev_inputs.hpp"

namespace {
synscope::consumers::Requests g_requests;  // fed by the signal handlers (signals.hpp)

/// Exit code of an exception that is not an Error: a bug, said as one (sysexits' EX_SOFTWARE).
constexpr int kExitInternal = 70;

/// rte_eal_cleanup() on every way out of live mode once EAL is up, then the runtime directory
/// (/var/run/dpdk/<file-prefix>) removed, which DPDK 22.11 leaves behind: a primary process owns it, and
/// its files (config, memory segment maps, the multi-process and telemetry sockets) mean nothing once it
/// is gone. A failed rte_eal_init() leaves the directory alone: it may be another live process's.
struct EalSession {
  EalSession(int argc, char** argv) {
    // EAL's default log stream writes each line to stdout and to syslog: under systemd both reach the
    // journal (every line twice) and stdout may carry --sessions-out -. One copy, on stderr.
    (void)rte_openlog_stream(stderr);
    if (rte_eal_init(argc, argv) < 0) {
      throw synscope::Error(synscope::ErrorKind::kStartup, std::string("EAL initialisation failed: ") +
                                                               rte_strerror(rte_errno) +
                                                               " (check the EAL options before '--')");
    }
    if (rte_eal_process_type() == RTE_PROC_PRIMARY) runtime_dir_ = rte_eal_get_runtime_dir();
  }
  ~EalSession() {
    rte_eal_cleanup();
    if (runtime_dir_.empty()) return;
    if (DIR* dir = opendir(runtime_dir_.c_str())) {
      while (const dirent* e = readdir(dir)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
          unlink((runtime_dir_ + "/" + e->d_name).c_str());
      }
      closedir(dir);
    }
    rmdir(runtime_dir_.c_str());
  }
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;

 private:
  std::string runtime_dir_;
};

/// Runs the parsed command; every failure it throws is mapped to a message and an exit code here.
template <class F>
int guarded(F&& command) {
  try {
    return command();
  } catch (const synscope::Error& e) {
    std::fprintf(stderr, "synscope: error: %s\n", e.what());
    return synscope::exit_code(e.kind());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "synscope: error: out of memory\n");
    return synscope::exit_code(synscope::ErrorKind::kResource);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synscope: internal error: %s\n", e.what());
    return kExitInternal;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace synscope::app;
  using synscope::ErrorKind;
  using synscope::exit_code;
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
  app.set_version_flag("--version", "synscope " SYNSCOPE_VERSION);
  app.footer(
      "Live mode: synscope [EAL options] -- run [options], e.g.\n"
      "  synscope -l 0-1 --no-huge -m 512 --no-pci --vdev net_pcap0,rx_pcap=FILE -- run --clock packet\n"
      "Exit codes: 0 ok, 1 bad option, 2 input unreadable, 3 input corrupt, 4 output not writable,\n"
      "5 out of memory or resources, 6 DPDK/port/endpoint start-up failed, 7 replay interrupted\n"
      "(outputs partial) (README: Exit codes)");
  ReplayOptions replay;
  CLI::App* replay_cmd = add_replay_command(app, replay);
  BacktestOptions backtest;
  add_backtest_command(app, backtest);
  TopOptions top;
  CLI::App* top_cmd = add_top_command(app, top);
  RunOptions run;
  CLI::App* run_cmd = add_run_command(app, run);
  app.set_config("--config", "", "TOML file of `run` options under a [run] section (keys: the long option names)")
      ->check(CLI::ExistingFile);
  app.allow_config_extras(false);  // an unknown or misplaced key in the file is an error, not ignored

  try {
    app.parse(static_cast<int>(app_args.size()), app_args.data());
    if (replay_cmd->parsed()) finalize_replay_options(replay);
    if (run_cmd->parsed()) {
      const std::string vdev = packet_clock_for_pcap_vdevs(run, eal_args, run_cmd->get_option("--clock")->count() > 0);
      if (!vdev.empty() && !run.quiet) {
        std::fprintf(stderr,
                     "synscope: %s replays a capture file: timing packets by their capture times (--clock packet; "
                     "--clock tsc times them by arrival)\n",
                     vdev.c_str());
      }
      finalize_run_options(run);
    }
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every parse or validation error is a usage error (CLI11's own codes
    // would be 105-115).
    if (e.get_exit_code() == 0) return app.exit(e);
    // The message names the culprit, which may be anything a user or a file supplied (a 100 MB unknown
    // config key was echoed whole): cut it to a readable length.
    std::string message = e.what();
    constexpr size_t kMaxMessage = 400;
    if (message.size() > kMaxMessage) {
      message = message.substr(0, kMaxMessage) + "... (" + std::to_string(message.size()) + " bytes, cut)";
    }
    std::fprintf(stderr, "%s\n", message.c_str());
    // `run` given without the `--` before it: its EAL options reached our parser. Say the convention.
    const bool run_without_split =
        split < 0 && std::any_of(argv + 1, argv + argc, [](const char* a) { return std::strcmp(a, "run") == 0; });
    if (run_without_split) {
      std::fprintf(stderr,
                   "Live mode takes DPDK's EAL options first, then `--`, then `run`: synscope [EAL options] -- run "
                   "[options] (is the `--` before `run` missing?)\n");
    }
    std::fprintf(stderr, "Run with --help for more information.\n");
    return exit_code(ErrorKind::kUsage);
  }
  if (run_cmd->parsed() && run.dump_config) {
    // Under the [run] section --config reads: the dump round-trips.
    std::cout << "# synscope " SYNSCOPE_VERSION " run configuration (read it back with --config FILE)\n[run]\n"
              << run_cmd->config_to_str(true, true);
    return 0;
  }

  install_signal_handlers(g_requests);
  if (run_cmd->parsed()) {
    return guarded([&] {
      check_vdev_inputs(eal_args);
      EalSession eal(static_cast<int>(eal_args.size()), eal_args.data());
      return run_live(run, g_requests);
    });
  }
  if (replay_cmd->parsed()) return guarded([&] { return run_replay(replay, g_requests); });
  if (top_cmd->parsed()) return guarded([&] { return run_top(top, g_requests); });
  return guarded([&] { return run_backtest(backtest); });
}
