// consumers: see consumers.hpp.
#include "consumers/consumers.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "consumers/output_paths.hpp"
#include "error/error.hpp"

namespace synscope::consumers {
namespace {

ipfix::ExporterConfig ipfix_config(const ConsumerConfig& config) {
  ipfix::ExporterConfig c;
  std::string why;
  if (!ipfix::parse_destination(config.ipfix_out, c.destination, why)) {
    throw Error(ErrorKind::kUsage, "--ipfix-out " + config.ipfix_out + ": " + why);
  }
  c.mode = config.ipfix_mode;
  c.domain = config.ipfix_domain;
  c.template_refresh_s = config.ipfix_template_refresh_s;
  c.ring_records = config.ipfix_ring_records;
  c.wait_ms = config.write_wait_ms;
  c.cancel = config.write_cancel;
  return c;
}

}  // namespace

Consumers::Consumers(const ConsumerConfig& config)
    : model_file_(config.model_file),
      ipfix_out_(config.ipfix_out),
      write_wait_ms_(config.write_wait_ms),
      write_cancel_(config.write_cancel),
      buckets_(config.bucket_span_ns, config.bucket_settle_ns) {
  check_output_paths(config);
  if (config.top || !config.top_out.empty()) top_ = std::make_unique<top::TopViews>(config.bucket_span_ns);
  if (!config.top_out.empty()) open(Output::kTop, config.top_out);
  if (!config.sessions_out.empty()) {
    open(Output::kSessions, config.sessions_out);
    output::SessionLineFormat format = config.session_format;
    format.sensor = config.sensor;
    session_writer_ = std::make_unique<output::SessionJsonWriter>(*files_[0], format);
    session_lines_ = std::make_unique<SessionLines>(format);
  }
  if (!config.buckets_out.empty()) {
    open(Output::kBuckets, config.buckets_out);
    bucket_writer_ = std::make_unique<output::BucketJsonWriter>(*files_[1]);
  }
  if (!config.alerts_out.empty()) {
    open(Output::kAlerts, config.alerts_out);
    alert_engine_ = std::make_unique<alerts::AlertEngine>(
        alerts::alert_config(config.alert_policy, config.bucket_span_ns, config.bucket_settle_ns), *files_[2]);
    std::string warning;
    if (!model_file_.empty() && !alert_engine_->load(model_file_, warning)) {
      std::fprintf(stderr, "synscope: warning: %s\n", warning.c_str());
    }
  }
  if (!config.ipfix_out.empty()) ipfix_ = std::make_unique<ipfix::Exporter>(ipfix_config(config));
}

Consumers::~Consumers() = default;

void Consumers::open(Output o, const std::string& path) {
  const auto i = static_cast<size_t>(o);
  if (path == "-") {
    for (size_t j = 0; j < i; ++j) {
      if (files_[j] != nullptr && files_[j]->path() == "-") {
        files_[i] = files_[j];  // one buffer for stdout keeps the outputs' lines in order
        return;
      }
    }
  }
  owned_[i] = std::make_unique<output::OutputFile>(path);
  owned_[i]->set_wait(write_wait_ms_, write_cancel_);
  files_[i] = owned_[i].get();
}

uint64_t Consumers::bytes_for(const ConsumerConfig& config) noexcept {
  uint64_t bytes = sizeof(Consumers) + buckets::BucketRing::bytes_for(config.bucket_span_ns, config.bucket_settle_ns);
  const int files =
      !config.sessions_out.empty() + !config.buckets_out.empty() + !config.alerts_out.empty() + !config.top_out.empty();
  bytes += static_cast<uint64_t>(files) * output::OutputFile::kBufferBytes;
  if (!config.alerts_out.empty()) {
    bytes += alerts::AlertEngine::bytes_for(
        alerts::alert_config(config.alert_policy, config.bucket_span_ns, config.bucket_settle_ns));
  }
  if (config.top || !config.top_out.empty()) bytes += top::TopViews::bytes();
  if (!config.ipfix_out.empty()) {
    ipfix::ExporterConfig c;
    c.ring_records = config.ipfix_ring_records;
    bytes += ipfix::Exporter::bytes_for(c);
  }
  return bytes;
}

void Consumers::receive(const engine::SessionRecord& record, std::string_view prepared_line) {
  buckets_.settle(record.settled_ns, *this);
  if (session_writer_) {
    if (prepared_line.empty()) {
      session_writer_->on_session(record);
    } else {
      session_writer_->write_prepared(prepared_line);
    }
  }
  if (alert_engine_) alert_engine_->on_session(record);
  if (top_) top_->add(record);
  if (ipfix_) ipfix_->offer(record);
  buckets_.add(record);
  ++sessions_;
}

void Consumers::settle(uint64_t t) { buckets_.settle(t, *this); }

void Consumers::finish() { buckets_.flush(*this); }

void Consumers::on_bucket(const buckets::Bucket& bucket) {
  if (bucket_writer_) bucket_writer_->on_bucket(bucket);
  if (alert_engine_) alert_engine_->on_bucket(bucket);
  if (top_) top_->on_bucket(bucket.start_ns);
  last_bucket_ = bucket;
  ++buckets_emitted_;
}

void Consumers::flush_files() noexcept {
  for (auto& f : owned_) {
    if (f) (void)f->flush();
  }
}

bool Consumers::close(std::string& error) {
  // Everything is attempted even after a failure: one unwritable output must not cost the others, and
  // every one that failed is named.
  if (ipfix_) {
    ipfix_->close();
    const ipfix::ExporterStats s = ipfix_->stats();
    if (s.dropped != 0) {
      std::fprintf(stderr, "synscope: warning: IPFIX export to %s: %llu of %llu sessions dropped\n", ipfix_out_.c_str(),
                   static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.dropped + s.written));
    }
  }
  std::string model_error;
  bool ok = !alert_engine_ || model_file_.empty() || alert_engine_->save(model_file_, model_error);
  error = model_error;
  if (output::OutputFile* f = files_[static_cast<size_t>(Output::kTop)]) {
    std::string json;
    top::append_json(top_->snapshot(), json);
    f->write(json.data(), json.size());
  }
  for (size_t i = 0; i < kOutputCount; ++i) {
    output::OutputFile* f = owned_[i].get();
    if (f == nullptr || f->flush()) continue;
    ok = false;
    if (!error.empty()) error += "; ";
    error += std::string("cannot write the ") + kOutputNames[i] + " output " + f->name() + ": " +
             std::to_string(f->dropped_records()) + " records dropped (" +
             (f->last_error() == ETIMEDOUT   ? std::string("the reader stopped taking data")
              : f->last_error() == ECANCELED ? std::string("stopped while waiting for the reader")
                                             : std::string(std::strerror(f->last_error()))) +
             ")";
  }
  return ok;
}

void Consumers::reopen_files() noexcept {
  for (auto& f : owned_) {
    std::string error;
    if (f && !f->reopen(error)) std::fprintf(stderr, "synscope: error: %s\n", error.c_str());
  }
  if (ipfix_) ipfix_->reopen();  // a file export (network exports ignore it)
}

OutputStats Consumers::output_stats() const noexcept {
  OutputStats s;
  for (size_t i = 0; i < kOutputCount; ++i) {
    if (!owned_[i]) continue;  // off, or sharing stdout with an earlier output (counted there)
    s.written[i] = owned_[i]->written_records();
    s.dropped[i] = owned_[i]->dropped_records();
    s.dropping[i] = owned_[i]->dropping() ? 1 : 0;
  }
  if (ipfix_) {
    const ipfix::ExporterStats e = ipfix_->stats();
    const auto i = static_cast<size_t>(Output::kIpfix);
    s.written[i] = e.written;
    s.dropped[i] = e.dropped;
    s.dropping[i] = e.dropping ? 1 : 0;
  }
  return s;
}

// A line longer than a channel's slot would never be prepared: the producer's render would always give up.
static_assert(output::SessionJsonWriter::kMaxSessionLine <= channel::SessionChannel::kPreparedLineBytes &&
              output::SessionJsonWriter::kMaxEcsSessionLine <= channel::SessionChannel::kPreparedLineBytes);

const channel::SessionChannel::LineRenderer* Consumers::session_line_renderer() const noexcept {
  return session_lines_.get();
}

}  // namespace synscope::consumers
