// encoder: see encoder.hpp.
#include "ipfix/encoder.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>

#include "error/error.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <fixbuf/public.h>
#pragma GCC diagnostic pop

namespace synscope::ipfix {
namespace {

/// The internal record: what fBufAppend() transcodes, laid out without holes (largest members first) so
/// the internal template below describes it element by element.
struct WireRecord {
  uint64_t flow_start_ms;
  uint64_t flow_end_ms;
  uint64_t packets, octets, reverse_packets, reverse_octets;
  uint64_t initiator_packets, responder_packets, initiator_octets, responder_octets;
  uint64_t syn, fin, rst, reverse_syn, reverse_fin, reverse_rst;
  uint64_t missed_bytes;
  fbVarfield_t conn_state, history, failure_reason, perspective, uid, end, removed;
  uint8_t src6[16], dst6[16];
  uint32_t src4, dst4;  ///< host order: libfixbuf converts IPv4 addresses to network order
  uint16_t src_port, dst_port;
  uint16_t reverse_flags, flags;
  uint8_t protocol;
  uint8_t end_reason;
  uint8_t padding[6];
};
static_assert(sizeof(WireRecord) == 304, "the internal template below lists every byte");

// Spec flags: which external templates carry an element (an element is in a template when every bit of
// its flags is in the template's). kInternal marks what only the in-memory layout has.
constexpr uint32_t kV4 = 1, kV6 = 2, kBiflow = 4, kInternal = 8;
constexpr uint32_t kAll = kV4 | kV6 | kBiflow | kInternal;

// Entries are non-const because libfixbuf's spec type holds a char* name.
fbInfoElementSpec_t kSpec[] = {
    {const_cast<char*>("flowStartMilliseconds"), 8, 0},
    {const_cast<char*>("flowEndMilliseconds"), 8, 0},
    {const_cast<char*>("packetDeltaCount"), 8, 0},
    {const_cast<char*>("octetDeltaCount"), 8, 0},
    {const_cast<char*>("reversePacketDeltaCount"), 8, kBiflow},
    {const_cast<char*>("reverseOctetDeltaCount"), 8, kBiflow},
    {const_cast<char*>("initiatorPackets"), 8, kBiflow},
    {const_cast<char*>("responderPackets"), 8, kBiflow},
    {const_cast<char*>("initiatorOctets"), 8, kBiflow},
    {const_cast<char*>("responderOctets"), 8, kBiflow},
    {const_cast<char*>("tcpSynTotalCount"), 8, 0},
    {const_cast<char*>("tcpFinTotalCount"), 8, 0},
    {const_cast<char*>("tcpRstTotalCount"), 8, 0},
    {const_cast<char*>("reverseTcpSynTotalCount"), 8, kBiflow},
    {const_cast<char*>("reverseTcpFinTotalCount"), 8, kBiflow},
    {const_cast<char*>("reverseTcpRstTotalCount"), 8, kBiflow},
    {const_cast<char*>("missedBytes"), 8, 0},
    {const_cast<char*>("connState"), FB_IE_VARLEN, 0},
    {const_cast<char*>("history"), FB_IE_VARLEN, 0},
    {const_cast<char*>("failureReason"), FB_IE_VARLEN, 0},
    {const_cast<char*>("perspective"), FB_IE_VARLEN, 0},
    {const_cast<char*>("uid"), FB_IE_VARLEN, 0},
    {const_cast<char*>("sessionEnd"), FB_IE_VARLEN, 0},
    {const_cast<char*>("sessionRemoved"), FB_IE_VARLEN, 0},
    {const_cast<char*>("sourceIPv6Address"), 16, kV6},
    {const_cast<char*>("destinationIPv6Address"), 16, kV6},
    {const_cast<char*>("sourceIPv4Address"), 4, kV4},
    {const_cast<char*>("destinationIPv4Address"), 4, kV4},
    {const_cast<char*>("sourceTransportPort"), 2, 0},
    {const_cast<char*>("destinationTransportPort"), 2, 0},
    // Reverse before forward: nfdump 1.7 reads element 6 whatever its enterprise number and keeps the last
    // one it sees, so this order makes it show the originator's flags.
    {const_cast<char*>("reverseTcpControlBits"), 2, kBiflow},
    {const_cast<char*>("tcpControlBits"), 2, 0},
    {const_cast<char*>("protocolIdentifier"), 1, 0},
    {const_cast<char*>("flowEndReason"), 1, 0},
    {const_cast<char*>("paddingOctets"), 6, kInternal},
    FB_IESPEC_NULL,
};

constexpr uint16_t kInternalTemplate = 256;  // internal ids are a namespace of their own

fbInfoElement_t kElements[] = {
    FB_IE_INIT_FULL("connState", kSynscopePen, 1, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    "Zeek conn_state of the session (S0, SF, REJ, ...)"),
    FB_IE_INIT_FULL("history", kSynscopePen, 2, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    "Zeek history letters (originator upper case)"),
    FB_IE_INIT_FULL("failureReason", kSynscopePen, 3, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    "why the session failed (no_reply, rejected, ...); empty if it did not"),
    FB_IE_INIT_FULL("perspective", kSynscopePen, 4, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    "inbound, outbound, private or edge"),
    FB_IE_INIT_FULL("uid", kSynscopePen, 5, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    "the session's uid, as in --sessions-out"),
    FB_IE_INIT_FULL("sessionEnd", kSynscopePen, 6, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    "how the connection ended (the record's end)"),
    FB_IE_INIT_FULL("sessionRemoved", kSynscopePen, 7, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    "why the session left the flow table (the record's removed)"),
    FB_IE_INIT_FULL("missedBytes", kSynscopePen, 8, 8, FB_IE_F_ENDIAN | FB_IE_TOTALCOUNTER | FB_UNITS_OCTETS, 0, 0,
                    FB_UINT_64, "bytes of the session's content gaps (Zeek's missed_bytes)"),
    FB_IE_NULL,
};

fbVarfield_t text(const auto& t) noexcept {
  return fbVarfield_t{t.len, reinterpret_cast<uint8_t*>(const_cast<char*>(t.text))};
}

uint32_t ipv4_of(const packet::IpAddr& a) noexcept {
  uint32_t v = 0;
  std::memcpy(&v, a.bytes.data(), 4);
  return ntohl(v);
}

/// Fills `w` for one direction: `part` 0 originator -> responder (with the reverse counters in biflow
/// mode), 1 responder -> originator (uniflow mode's second record).
void fill(const FlowRecord& r, int part, WireRecord& w) noexcept {
  std::memset(&w, 0, sizeof(w));
  const FlowDirection& fwd = r.dir[part];
  const FlowDirection& rev = r.dir[1 - part];
  const packet::IpAddr& src = part == 0 ? r.orig_h : r.resp_h;
  const packet::IpAddr& dst = part == 0 ? r.resp_h : r.orig_h;
  w.flow_start_ms = r.start_ms;
  w.flow_end_ms = r.end_ms;
  w.packets = fwd.packets;
  w.octets = fwd.octets;
  w.reverse_packets = rev.packets;
  w.reverse_octets = rev.octets;
  w.initiator_packets = r.dir[0].packets;
  w.responder_packets = r.dir[1].packets;
  w.initiator_octets = r.dir[0].octets;
  w.responder_octets = r.dir[1].octets;
  w.syn = fwd.syn;
  w.fin = fwd.fin;
  w.rst = fwd.rst;
  w.reverse_syn = rev.syn;
  w.reverse_fin = rev.fin;
  w.reverse_rst = rev.rst;
  w.missed_bytes = r.missed_bytes;
  w.conn_state = text(r.conn_state);
  w.history = text(r.history);
  w.failure_reason = text(r.failure_reason);
  w.perspective = text(r.perspective);
  w.uid = text(r.uid);
  w.end = text(r.end);
  w.removed = text(r.removed);
  if (r.ip_version == 6) {
    std::memcpy(w.src6, src.bytes.data(), 16);
    std::memcpy(w.dst6, dst.bytes.data(), 16);
  } else {
    w.src4 = ipv4_of(src);
    w.dst4 = ipv4_of(dst);
  }
  w.src_port = part == 0 ? r.orig_p : r.resp_p;
  w.dst_port = part == 0 ? r.resp_p : r.orig_p;
  w.flags = fwd.flags;
  w.reverse_flags = rev.flags;
  w.protocol = 6;  // TCP: the engine judges TCP sessions only
  w.end_reason = r.end_reason;
}

[[noreturn]] void fail(const char* what, GError* err) {
  std::string message = std::string("IPFIX encoder: ") + what + ": " + (err != nullptr ? err->message : "failed");
  if (err != nullptr) g_error_free(err);
  throw Error(ErrorKind::kResource, message);
}

}  // namespace

Encoder::Encoder(Mode mode, uint32_t domain, uint16_t message_bytes)
    : mode_(mode), message_(new uint8_t[message_bytes]) {
  GError* err = nullptr;
  model_ = fbInfoModelAlloc();
  fbInfoModelAddElementArray(model_, kElements);
  fbSession_t* session = fbSessionAlloc(model_);
  const auto add = [&](bool internal, uint16_t tid, uint32_t flags) {
    fbTemplate_t* t = fbTemplateAlloc(model_);
    if (!fbTemplateAppendSpecArray(t, kSpec, flags, &err)) {
      fbTemplateFreeUnused(t);
      fail("template", err);
    }
    if (fbSessionAddTemplate(session, internal ? TRUE : FALSE, tid, t, &err) == 0) fail("template", err);
  };
  // External templates belong to the observation domain current when they are added: set it first.
  fbSessionSetDomain(session, domain);
  try {
    add(true, kInternalTemplate, kAll);
    if (mode == Mode::kBiflow) {
      add(false, kTemplateBiflow4, kV4 | kBiflow);
      add(false, kTemplateBiflow6, kV6 | kBiflow);
    } else {
      add(false, kTemplateUniflow4, kV4);
      add(false, kTemplateUniflow6, kV6);
    }
    // RFC 5610 type records are written by append_templates() itself: libfixbuf's own metadata export
    // (fbSessionSetMetadataExportElements) writes templates and records in one call, which its manual mode
    // refuses (templates and data may not share a message there).
    for (bool internal : {true, false}) {
      fbTemplate_t* t = fbInfoElementAllocTypeTemplate(model_, &err);
      if (t == nullptr) fail("element type template", err);
      if (fbSessionAddTemplate(session, internal ? TRUE : FALSE, kTemplateElementTypes, t, &err) == 0) {
        fail("element type template", err);
      }
    }
  } catch (...) {
    fbSessionFree(session);
    fbInfoModelFree(model_);
    throw;
  }
  // The exporter and buffer come last: a session attached to a buffer writes each template as it is added.
  buf_ = fBufAllocForExport(session, fbExporterAllocBuffer(message_.get(), message_bytes));
  // Manual mode: a full message is reported (FB_ERROR_EOM) instead of emitted behind our back, so every
  // message's bytes reach the transport before the next one overwrites the buffer.
  fBufSetAutomaticMode(buf_, FALSE);
  if (!fBufSetInternalTemplate(buf_, kInternalTemplate, &err)) {
    fBufFree(buf_);
    fbInfoModelFree(model_);
    fail("internal template", err);
  }
}

Encoder::~Encoder() {
  fBufFree(buf_);
  fbInfoModelFree(model_);
}

Encoder::Status Encoder::status_of(bool ok, void* gerror) noexcept {
  GError* err = static_cast<GError*>(gerror);
  if (ok) return Status::kOk;
  const bool full = g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM);
  if (!full) std::snprintf(error_, sizeof(error_), "%s", err != nullptr ? err->message : "libfixbuf failed");
  if (err != nullptr) g_error_free(err);
  return full ? Status::kFull : Status::kError;
}

Encoder::Status Encoder::append_templates() noexcept {
  // Steps, each resumed after a kFull: the element-type template, one type record per enterprise element,
  // then the two data templates. The type records come first so a collector that learns elements from
  // them (RFC 5610) knows our strings are strings when it reads the data templates.
  constexpr int kTypes = static_cast<int>(std::size(kEnterpriseElements));
  const uint16_t data_templates[2] = {mode_ == Mode::kBiflow ? kTemplateBiflow4 : kTemplateUniflow4,
                                      mode_ == Mode::kBiflow ? kTemplateBiflow6 : kTemplateUniflow6};
  fbSession_t* session = fBufGetSession(buf_);
  while (templates_step_ < kTypes + 3) {
    GError* err = nullptr;
    bool ok = false;
    if (templates_step_ == 0) {
      ok = fbSessionExportTemplate(session, kTemplateElementTypes, &err) != FALSE;
    } else if (templates_step_ <= kTypes) {
      const EnterpriseElement& e = kEnterpriseElements[templates_step_ - 1];
      const fbInfoElement_t* ie = fbInfoModelGetElementByID(model_, e.id, kSynscopePen);
      ok = fbInfoElementWriteOptionsRecord(buf_, ie, kTemplateElementTypes, kTemplateElementTypes, &err) != FALSE;
      // The type record moved the buffer to its templates: data records need ours back.
      export_tid_ = 0;
      GError* restore = nullptr;
      if (!fBufSetInternalTemplate(buf_, kInternalTemplate, &restore)) {
        if (err != nullptr) g_error_free(err);
        (void)status_of(false, restore);
        templates_step_ = 0;
        return Status::kError;
      }
    } else {
      ok = fbSessionExportTemplate(session, data_templates[templates_step_ - kTypes - 1], &err) != FALSE;
    }
    const Status s = status_of(ok, err);
    if (s != Status::kOk) {
      if (s == Status::kError) templates_step_ = 0;
      return s;
    }
    pending_ = true;
    ++templates_step_;
  }
  templates_step_ = 0;
  export_tid_ = 0;
  return Status::kOk;
}

Encoder::Status Encoder::append_part(const FlowRecord& record, int part) noexcept {
  const bool v6 = record.ip_version == 6;
  const uint16_t tid = mode_ == Mode::kBiflow ? (v6 ? kTemplateBiflow6 : kTemplateBiflow4)
                                              : (v6 ? kTemplateUniflow6 : kTemplateUniflow4);
  GError* err = nullptr;
  if (tid != export_tid_) {
    if (!fBufSetExportTemplate(buf_, tid, &err)) return status_of(false, err);
    export_tid_ = tid;
  }
  WireRecord w;
  fill(record, part, w);
  const bool ok = fBufAppend(buf_, reinterpret_cast<uint8_t*>(&w), sizeof(w), &err) != FALSE;
  const Status s = status_of(ok, err);
  if (s == Status::kOk) pending_ = true;
  return s;
}

Encoder::Status Encoder::append(const FlowRecord& record) noexcept {
  const int parts = mode_ == Mode::kBiflow ? 1 : 2;
  while (next_part_ < parts) {
    const Status s = append_part(record, next_part_);
    if (s != Status::kOk) {
      if (s == Status::kError) next_part_ = 0;
      return s;
    }
    ++next_part_;
  }
  next_part_ = 0;
  return Status::kOk;
}

std::span<const uint8_t> Encoder::emit() noexcept {
  if (!pending_) return {};
  pending_ = false;
  GError* err = nullptr;
  if (!fBufEmit(buf_, &err)) {
    (void)status_of(false, err);
    return {};
  }
  return {message_.get(), fbExporterGetMsgLen(fBufGetExporter(buf_))};
}

}  // namespace synscope::ipfix
