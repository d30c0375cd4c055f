// alerts/bucket_tally: who failed in each bucket still open — the attribution every alert line reads.
//
// For each bucket that may still receive sessions (the settle window plus a margin) a BucketTally keeps,
// per perspective, a Space-Saving summary of failed sessions per server and per (client, server) pair, and
// the failed sessions of each tracked per-server series. Fixed memory whatever the number of servers. Owned
// by the AlertEngine's thread; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "alerts/space_saving.hpp"
#include "buckets/buckets.hpp"
#include "packet/packet.hpp"

namespace synscope::alerts {

/// A server: responder address and port.
struct ServerKey {
  packet::IpAddr addr{};
  uint16_t port = 0;
  uint8_t ip_version = 4;
  bool operator==(const ServerKey& o) const noexcept {
    return port == o.port && ip_version == o.ip_version && addr.bytes == o.addr.bytes;
  }
};

/// A client's failed attempts at one server: the unit of the client-over-server view.
struct ClientServerKey {
  ServerKey server;
  packet::IpAddr client{};
  bool operator==(const ClientServerKey& o) const noexcept {
    return server == o.server && client.bytes == o.client.bytes;
  }
};

/// "ip:port", IPv6 in brackets: how alerts name a server.
[[nodiscard]] std::string server_text(const ServerKey& k);

inline constexpr size_t kTopServers = 16;  ///< servers a tally tells apart per perspective
inline constexpr size_t kTopPairs = 64;    ///< (client, server) pairs a tally tells apart per perspective

/// The failed sessions of one bucket, by server and by (client, server), per perspective.
struct BucketTally {
  uint64_t index = UINT64_MAX;  ///< bucket index (start / span) these counters belong to
  std::array<SpaceSaving<ServerKey, kTopServers>, buckets::kPerspectiveCount> servers;
  std::array<SpaceSaving<ClientServerKey, kTopPairs>, buckets::kPerspectiveCount> pairs;
  std::vector<uint32_t> series_counts;  ///< failed sessions per tracked server series (ServerSeriesSet)
};

/// The tallies of the buckets still open, in a ring indexed by bucket number.
class TallyRing {
 public:
  /// Room for `buckets` open buckets of `span_ns`, each counting `series` server series.
  TallyRing(size_t buckets, uint64_t span_ns, uint32_t series);

  /// The tally of the bucket that holds time `ns`, emptied first if it held an older bucket.
  BucketTally& open(uint64_t ns) noexcept;
  /// The tally of the bucket starting at `start_ns`; nullptr when no failed session was counted in it.
  [[nodiscard]] BucketTally* find(uint64_t start_ns) noexcept;
  /// Zeroes every tally's count of `series` (a series that now tracks another server).
  void forget_series(uint32_t series) noexcept;
  /// A series admitted for `server` while the bucket `index` settles: the buckets after it, still open,
  /// counted that server's failed sessions only in their Space-Saving summaries; they become its counts.
  void claim_series(uint32_t series, const ServerKey& server, uint64_t index) noexcept;

 private:
  uint64_t span_ns_;
  std::vector<BucketTally> tallies_;
};

}  // namespace synscope::alerts
