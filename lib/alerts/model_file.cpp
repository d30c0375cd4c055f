// alerts/model_file: AlertEngine::save and AlertEngine::load, the versioned model file.
//
// Called on the AlertEngine's thread (at start and at the end of a run, or by the live control side through
// the engine's owner). Layout (little-endian, this build's struct layout — the size checks reject a file
// from another layout):
//   magic "SYNSCOPE-MODEL\0\0" | u32 version | u32 sizeof(CountModel) | u32 sizeof(AlertState) |
//   u32 perspective series (4 + total) | u64 bucket_span_ns | u64 detector span ns | u64 next_start_ns |
//   u64 first_ns | u8 started | open detector bucket (buckets::Bucket) | u8 its record buckets were emitted |
//   models | states | newest scores | u8 total reported |
//   u32 server series capacity | u32 in use | u32 sizeof(ServerSeries) | series (capacity of them) |
//   the open detector bucket's count per server series (capacity u32) | u64 FNV-1a
// The server series' index is not saved: load() rebuilds it from the series. The detector bucket still
// summing record buckets is saved with its sums, so a restart inside it scores it whole.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <type_traits>

#include "alerts/alerts.hpp"
#include "flow/mix.hpp"

namespace synscope::alerts {

namespace {

constexpr char kMagic[16] = "SYNSCOPE-MODEL";
// 2: per-server series; 3: weekday/weekend day profiles; 4: total series; 5: the CUSUM's own tail;
// 6: calibrated count models (detector/count_model.hpp) and the detector's own bucket span; 7: the open
// detector bucket and the newest scores
constexpr uint32_t kModelVersion = 7;

template <class T>
void put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <class T>
bool take(const std::string& in, size_t& at, T& v) {
  if (in.size() - at < sizeof(T)) return false;
  std::memcpy(&v, in.data() + at, sizeof(T));
  at += sizeof(T);
  return true;
}

}  // namespace

bool AlertEngine::save(const std::string& path, std::string& error) const {
  std::string body;
  body.append(kMagic, sizeof(kMagic));
  put(body, kModelVersion);
  put(body, static_cast<uint32_t>(sizeof(detector::CountModel)));
  put(body, static_cast<uint32_t>(sizeof(detector::AlertState)));
  put(body, static_cast<uint32_t>(kPerspectiveSeries));
  put(body, config_.bucket_span_ns);
  put(body, detector_span_ns_);
  put(body, next_start_ns_);
  put(body, first_ns_);
  put(body, static_cast<uint8_t>(started_));
  put(body, sum_);
  put(body, static_cast<uint8_t>(sum_emitted_));
  put(body, perspectives_.models());
  put(body, perspectives_.states());
  put(body, perspectives_.lasts());
  put(body, static_cast<uint8_t>(perspectives_.total_reported()));
  put(body, servers_.capacity());
  put(body, servers_.used());
  put(body, static_cast<uint32_t>(sizeof(ServerSeries)));
  static_assert(std::is_trivially_copyable_v<ServerSeries>);
  body.append(reinterpret_cast<const char*>(servers_.data()), size_t{servers_.capacity()} * sizeof(ServerSeries));
  body.append(reinterpret_cast<const char*>(series_sums_.data()), series_sums_.size() * sizeof(uint32_t));
  put(body, flow::fnv1a64(body));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
    if (!f.good()) {
      error = "cannot write model file " + tmp;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {  // atomic: a crash never leaves half a model
    error = "cannot rename " + tmp + " to " + path;
    return false;
  }
  return true;
}

bool AlertEngine::load(const std::string& path, std::string& warning) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    warning = "model file " + path + " not found: starting a fresh model";
    return false;
  }
  const std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto fail = [&](const std::string& why) {
    warning = "model file " + path + " " + why + ": starting a fresh model";
    return false;
  };
  if (in.size() < sizeof(kMagic) + sizeof(uint64_t) || std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0) {
    return fail("is not a synscope model");
  }
  uint64_t stored_sum = 0;
  std::memcpy(&stored_sum, in.data() + in.size() - sizeof(uint64_t), sizeof(uint64_t));
  if (flow::fnv1a64(std::string_view(in).substr(0, in.size() - sizeof(uint64_t))) != stored_sum) {
    return fail("is corrupt (checksum)");
  }
  size_t at = sizeof(kMagic);
  uint32_t version = 0, model_size = 0, state_size = 0, perspectives = 0;
  uint64_t span = 0, det_span = 0, next_start = 0, first = 0;
  uint8_t started = 0;
  if (!take(in, at, version) || !take(in, at, model_size) || !take(in, at, state_size) || !take(in, at, perspectives) ||
      !take(in, at, span) || !take(in, at, det_span) || !take(in, at, next_start) || !take(in, at, first) ||
      !take(in, at, started)) {
    return fail("is truncated");
  }
  if (version != kModelVersion) {
    return fail("has format version " + std::to_string(version) + " (this build reads " +
                std::to_string(kModelVersion) + ")");
  }
  if (model_size != sizeof(detector::CountModel) || state_size != sizeof(detector::AlertState) ||
      perspectives != kPerspectiveSeries) {
    return fail("was written by a build with another model layout");
  }
  if (span != config_.bucket_span_ns || det_span != detector_span_ns_) {
    return fail("was learned with " + std::to_string(span / 1'000'000'000.0) + " s record and " +
                std::to_string(det_span / 1'000'000'000.0) + " s detector buckets, not " +
                std::to_string(config_.bucket_span_ns / 1'000'000'000.0) + " and " +
                std::to_string(detector_span_ns_ / 1'000'000'000.0));
  }
  buckets::Bucket open_sum{};
  uint8_t open_emitted = 0;
  PerspectiveSeries::Models models;
  PerspectiveSeries::States states;
  PerspectiveSeries::Lasts lasts;
  uint8_t total_reported = 0;
  uint32_t capacity = 0, used = 0, series_size = 0;
  if (!take(in, at, open_sum) || !take(in, at, open_emitted) || !take(in, at, models) || !take(in, at, states) ||
      !take(in, at, lasts) || !take(in, at, total_reported) || !take(in, at, capacity) || !take(in, at, used) ||
      !take(in, at, series_size)) {
    return fail("is truncated");
  }
  if (series_size != sizeof(ServerSeries)) return fail("was written by a build with another model layout");
  if (capacity != servers_.capacity()) {
    return fail("keeps " + std::to_string(capacity) + " server series, this run " +
                std::to_string(servers_.capacity()) + " (--alert-servers)");
  }
  const size_t series_bytes = size_t{capacity} * sizeof(ServerSeries);
  const size_t sums_bytes = size_t{capacity} * sizeof(uint32_t);
  if (used > capacity || in.size() - at != series_bytes + sums_bytes + sizeof(uint64_t)) return fail("is truncated");
  servers_.restore(in.data() + at, used);
  std::memcpy(series_sums_.data(), in.data() + at + series_bytes, sums_bytes);
  sum_ = open_sum;
  sum_emitted_ = open_emitted != 0;
  perspectives_.restore(models, states, lasts, total_reported != 0);
  next_start_ns_ = next_start;
  first_ns_ = first;
  started_ = started != 0;
  return true;
}

}  // namespace synscope::alerts
