// consumers: see consumers.hpp.
#include "consumers/consumers.hpp"

#include <cstdio>

namespace synscope::consumers {

Consumers::Consumers(const ConsumerConfig& config)
    : model_file_(config.model_file), buckets_(config.bucket_span_ns, config.bucket_settle_ns) {
  if (!config.sessions_out.empty()) {
    sessions_file_ = std::make_unique<output::OutputFile>(config.sessions_out);
    session_writer_ = std::make_unique<output::SessionJsonWriter>(*sessions_file_);
  }
  if (!config.buckets_out.empty()) {
    buckets_file_ = std::make_unique<output::OutputFile>(config.buckets_out);
    bucket_writer_ = std::make_unique<output::BucketJsonWriter>(*buckets_file_);
  }
  if (!config.alerts_out.empty()) {
    alerts_file_ = std::make_unique<output::OutputFile>(config.alerts_out);
    alert_engine_ = std::make_unique<alerts::AlertEngine>(
        alerts::alert_config(config.alert_policy, config.bucket_span_ns, config.bucket_settle_ns), *alerts_file_);
    std::string warning;
    if (!model_file_.empty() && !alert_engine_->load(model_file_, warning)) {
      std::fprintf(stderr, "synscope: warning: %s\n", warning.c_str());
    }
  }
}

Consumers::~Consumers() = default;

uint64_t Consumers::bytes_for(const ConsumerConfig& config) noexcept {
  uint64_t bytes = sizeof(Consumers) + buckets::BucketRing::bytes_for(config.bucket_span_ns, config.bucket_settle_ns);
  const int files = !config.sessions_out.empty() + !config.buckets_out.empty() + !config.alerts_out.empty();
  bytes += static_cast<uint64_t>(files) * output::OutputFile::kBufferBytes;
  if (!config.alerts_out.empty()) {
    bytes += alerts::AlertEngine::bytes_for(
        alerts::alert_config(config.alert_policy, config.bucket_span_ns, config.bucket_settle_ns));
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
  buckets_.add(record);
  ++sessions_;
}

void Consumers::settle(uint64_t t) { buckets_.settle(t, *this); }

void Consumers::finish() { buckets_.flush(*this); }

void Consumers::on_bucket(const buckets::Bucket& bucket) {
  if (bucket_writer_) bucket_writer_->on_bucket(bucket);
  if (alert_engine_) alert_engine_->on_bucket(bucket);
  last_bucket_ = bucket;
  ++buckets_emitted_;
}

void Consumers::flush_files() noexcept {
  for (output::OutputFile* f : {sessions_file_.get(), buckets_file_.get(), alerts_file_.get()}) {
    if (f != nullptr) (void)f->flush();
  }
}

bool Consumers::close(std::string& error) {
  // Everything is attempted even after a failure: one unwritable output must not cost the others.
  bool ok = !alert_engine_ || model_file_.empty() || alert_engine_->save(model_file_, error);
  for (output::OutputFile* f : {sessions_file_.get(), buckets_file_.get(), alerts_file_.get()}) {
    if (f != nullptr && !f->flush() && ok) {
      error = "cannot write " + f->path();
      ok = false;
    }
  }
  return ok;
}

channel::SessionChannel::LineRenderer Consumers::session_line_renderer() const noexcept {
  return session_writer_ ? &output::SessionJsonWriter::render : nullptr;
}

}  // namespace synscope::consumers
