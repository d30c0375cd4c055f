// community_id: the Community ID v1 of every flow the spec publishes test vectors for equals the published
// string, with seed 0 and seed 1, in both directions.
#include "community_id/community_id.hpp"

#include <gtest/gtest.h>

#include <string>

namespace synscope::community_id {
namespace {

struct Vector {
  uint8_t proto;
  const char* saddr;
  const char* daddr;
  uint16_t sport, dport;  // ICMP and ICMPv6: type and code; 0 for protocols without ports
  const char* seed0;
  const char* seed1;
};

// Copied from github.com/corelight/community-id-spec, baseline/README.md ("Default settings" and "A custom
// seed=1 value" tables: each row's flow, its default-seed ID and its seed-1 ID).
constexpr Vector kSpecTables[] = {
    {6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 128, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 129, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 146, 0,
     "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
    {46, "1.2.3.4", "5.6.7.8", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {46, "5.6.7.8", "1.2.3.4", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {46, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 0, 0,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
    {46, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 0, 0,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
};

// Copied from the same repository, baseline/baseline_deflt.json and baseline/baseline_seed1.json (flows of
// pcaps/combined.pcap.gz; for ICMP the files list the port equivalents, which map to themselves here):
// real TCP flows over IPv4 and IPv6, and the ICMPv6 neighbour discovery pairs.
constexpr Vector kSpecPcapFlows[] = {
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=", "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=", "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

std::string id_of(const Vector& v, uint16_t seed) {
  FlowTuple flow;
  uint8_t src_version = 0, dst_version = 0;
  EXPECT_TRUE(packet::parse_ip(v.saddr, flow.src, src_version)) << v.saddr;
  EXPECT_TRUE(packet::parse_ip(v.daddr, flow.dst, dst_version)) << v.daddr;
  EXPECT_EQ(src_version, dst_version);
  flow.ip_version = src_version;
  flow.proto = v.proto;
  flow.src_port = v.sport;
  flow.dst_port = v.dport;
  char out[kTextLength + 8];
  std::fill(out, out + sizeof(out), '#');
  const size_t n = format(flow, seed, out);
  EXPECT_EQ(n, kTextLength);
  for (size_t i = kTextLength; i < sizeof(out); ++i) EXPECT_EQ(out[i], '#') << "wrote past the ID at " << i;
  return {out, n};
}

TEST(CommunityId, MatchesTheSpecTablesWithSeedZeroAndOne) {
  for (const Vector& v : kSpecTables) {
    EXPECT_EQ(id_of(v, 0), v.seed0) << int{v.proto} << " " << v.saddr << " " << v.sport << " -> " << v.daddr;
    EXPECT_EQ(id_of(v, 1), v.seed1) << int{v.proto} << " " << v.saddr << " " << v.sport << " -> " << v.daddr;
  }
}

TEST(CommunityId, MatchesTheSpecBaselineFlowsWithSeedZeroAndOne) {
  for (const Vector& v : kSpecPcapFlows) {
    EXPECT_EQ(id_of(v, 0), v.seed0) << int{v.proto} << " " << v.saddr << " " << v.sport << " -> " << v.daddr;
    EXPECT_EQ(id_of(v, 1), v.seed1) << int{v.proto} << " " << v.saddr << " " << v.sport << " -> " << v.daddr;
  }
}

TEST(CommunityId, EqualAddressesAreOrderedByPort) {
  Vector a{6, "10.0.0.1", "10.0.0.1", 1000, 80, "", ""};
  Vector b{6, "10.0.0.1", "10.0.0.1", 80, 1000, "", ""};
  EXPECT_EQ(id_of(a, 0), id_of(b, 0));
  Vector c{6, "10.0.0.1", "10.0.0.1", 1000, 81, "", ""};
  EXPECT_NE(id_of(a, 0), id_of(c, 0));
}

TEST(CommunityId, AnUnknownIpVersionWritesNothing) {
  FlowTuple flow;
  flow.ip_version = 5;
  char out[kTextLength] = {};
  EXPECT_EQ(format(flow, 0, out), 0u);
  EXPECT_EQ(out[0], '\0');
}

}  // namespace
}  // namespace synscope::community_id
