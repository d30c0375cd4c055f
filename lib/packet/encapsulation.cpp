// encapsulation: see encapsulation.hpp.
#include "packet/encapsulation.hpp"

namespace synscope::packet {

std::string_view encapsulation_name(Encapsulation e) noexcept {
  switch (e) {
    case Encapsulation::kVlan: return "vlan";
    case Encapsulation::kVnTag: return "vn_tag";
    case Encapsulation::kPbb: return "pbb";
    case Encapsulation::kFabricPath: return "fabricpath";
    case Encapsulation::kMpls: return "mpls";
    case Encapsulation::kMplsPseudowire: return "mpls_pseudowire";
    case Encapsulation::kPppoe: return "pppoe";
    case Encapsulation::kLlcSnap: return "llc_snap";
    case Encapsulation::kGre: return "gre";
    case Encapsulation::kErspan: return "erspan";
    case Encapsulation::kPptp: return "pptp";
    case Encapsulation::kIpInIp: return "ip_in_ip";
    case Encapsulation::kVxlan: return "vxlan";
    case Encapsulation::kGeneve: return "geneve";
    case Encapsulation::kGtpU: return "gtp_u";
    case Encapsulation::kTeredo: return "teredo";
    case Encapsulation::kAyiya: return "ayiya";
    case Encapsulation::kIpFragment: return "ip_fragment";
    case Encapsulation::kCount: break;
  }
  return "unknown";
}

}  // namespace synscope::packet
