// encoder: FlowRecords -> IPFIX messages through libfixbuf, with synscope's fixed templates.
//
// The Encoder owns libfixbuf's information model (IANA's elements, RFC 5103 reverse elements, our
// enterprise elements under kSynscopePen), its session (observation domain, sequence numbers, templates)
// and an export buffer in manual mode: append() fills the current message and says when it is full;
// emit() closes it and returns its bytes, which the caller writes (Transport). Built at start-up (the
// constructor may throw), then used by one thread only (the exporter thread). append() does not allocate;
// libfixbuf allocates one GError each time a message fills up (per message, not per record).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "ipfix/flow_record.hpp"

// libfixbuf's types, kept out of our headers (its glib includes are large and not -Wpedantic clean).
struct fBuf_st;
struct fbInfoModel_st;

namespace synscope::ipfix {

/// One biflow record per session (RFC 5103, reverse counters under PEN 29305), or two uniflow records
/// (originator -> responder, then responder -> originator).
enum class Mode : uint8_t { kBiflow, kUniflow };

/// Template ids (fixed: collectors and docs/outputs.md may rely on them). Only the mode's two data
/// templates and the element-type template are exported.
inline constexpr uint16_t kTemplateBiflow4 = 256;
inline constexpr uint16_t kTemplateBiflow6 = 257;
inline constexpr uint16_t kTemplateUniflow4 = 258;
inline constexpr uint16_t kTemplateUniflow6 = 259;
/// RFC 5610 information-element type records, so a collector (ipfixDump --rfc5610) learns our enterprise
/// elements' names and types from the stream itself.
inline constexpr uint16_t kTemplateElementTypes = 260;

/// Our enterprise elements (PEN kSynscopePen): id and name.
struct EnterpriseElement {
  uint16_t id;
  const char* name;
};
inline constexpr EnterpriseElement kEnterpriseElements[] = {
    {1, "connState"}, {2, "history"},    {3, "failureReason"},  {4, "perspective"},
    {5, "uid"},       {6, "sessionEnd"}, {7, "sessionRemoved"}, {8, "missedBytes"},
};

class Encoder {
 public:
  /// A message filled, or what went wrong.
  enum class Status : uint8_t { kOk, kFull, kError };

  /// Builds the information model, the session for `domain` and the templates of `mode`; messages are at
  /// most `message_bytes`. Throws Error (ErrorKind::kResource) with libfixbuf's message when it fails.
  Encoder(Mode mode, uint32_t domain, uint16_t message_bytes);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  /// Appends the template set (and the element-type records) to the current message. kFull: emit() and
  /// call again (libfixbuf's manual mode wants templates at the start of a message and records in a
  /// later one, so a call may say kFull two or three times; it continues where it stopped).
  [[nodiscard]] Status append_templates() noexcept;
  /// Appends the session's record(s). kFull: the message is full (in uniflow mode perhaps after the first
  /// of the two records): emit() and call again with the same record, which continues where it stopped.
  [[nodiscard]] Status append(const FlowRecord& record) noexcept;
  /// Closes the current message and returns its bytes (valid until the next call); empty when nothing was
  /// appended since the last emit() or on an error (error()).
  [[nodiscard]] std::span<const uint8_t> emit() noexcept;
  /// Something was appended since the last emit().
  [[nodiscard]] bool pending() const noexcept { return pending_; }
  /// libfixbuf's last error message.
  [[nodiscard]] const char* error() const noexcept { return error_; }
  [[nodiscard]] Mode mode() const noexcept { return mode_; }

 private:
  Status append_part(const FlowRecord& record, int part) noexcept;
  Status status_of(bool ok, void* gerror) noexcept;

  Mode mode_;
  std::unique_ptr<uint8_t[]> message_;
  fbInfoModel_st* model_ = nullptr;
  fBuf_st* buf_ = nullptr;  ///< owns libfixbuf's session and exporter
  uint16_t export_tid_ = 0;
  int next_part_ = 0;
  int templates_step_ =
      0;  ///< append_templates(): 0 the template set, n > 0 the nth type record next  ///< uniflow: 1 when the first record went into the last message
  bool pending_ = false;
  char error_[256] = {};
};

}  // namespace synscope::ipfix
