// backtest: the `backtest` command's options (the scoring itself is lib/backtest).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "backtest/backtest.hpp"

namespace synscope::app {

using BacktestOptions = backtest::BacktestConfig;

CLI::App* add_backtest_command(CLI::App& app, BacktestOptions& out);

/// Returns an exit code (0 ok). Throws Error on unreadable or malformed input or an unwritable output.
int run_backtest(const BacktestOptions& options);

}  // namespace synscope::app
