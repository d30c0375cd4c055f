// top: `synscope top`, a terminal view of a running synscope's drill-down (GET /api/v1/top on its metrics
// port), refreshed like top(1): the busiest servers, clients, ports and conversations by failed sessions,
// and who sends RSTs, over one window.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "consumers/requests.hpp"

namespace synscope::app {

struct TopOptions {
  std::string url = "http://127.0.0.1:9355";  // run's default --metrics-listen
  std::string window = "15m";
  std::string kinds = "servers,clients,conversations,server_rst";
  uint32_t rows = 10;
  double interval_s = 2;
  uint32_t count = 0;  ///< refreshes before exiting (0: until SIGINT/SIGTERM)
};

CLI::App* add_top_command(CLI::App& app, TopOptions& out);

/// Returns an exit code (0 ok). Throws Error (kInput) naming the URL when the endpoint cannot be reached or
/// does not answer with the drill-down.
int run_top(const TopOptions& options, const consumers::Requests& requests);

}  // namespace synscope::app
