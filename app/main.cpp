// synscope: watches every TCP session on a link, judges how it was set up and torn down, and counts the
// failed ones per time bucket. main() is thin: parse the command line, run the chosen mode, map every
// start-up error to one clear message and exit code.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "backtest.hpp"
#include "capture/capture.hpp"
#include "options.hpp"
#include "replay.hpp"

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }
}  // namespace

int main(int argc, char** argv) {
  using namespace synscope::app;
  CLI::App app{"synscope: TCP session verdicts and failed-session anomaly detection"};
  app.require_subcommand(1);
  ReplayOptions replay;
  CLI::App* replay_cmd = add_replay_command(app, replay);
  BacktestOptions backtest;
  CLI::App* backtest_cmd = add_backtest_command(app, backtest);

  try {
    app.parse(argc, argv);
    if (replay_cmd->parsed()) finalize_replay_options(replay);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
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
