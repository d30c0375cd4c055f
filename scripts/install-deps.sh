#!/usr/bin/env bash
# Installs every Debian bookworm package synscope needs to build, test and benchmark.
# Idempotent and non-interactive: safe to run on a fresh machine or again on a prepared one.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config clang-format
  # libFuzzer targets (scripts/fuzz.sh): clang with its sanitizer and fuzzer runtimes
  clang
  # libraries
  libdpdk-dev dpdk dpdk-dev libtbb-dev prometheus-cpp-dev libcli11-dev libgtest-dev libgmock-dev
  libpcap-dev nlohmann-json3-dev libcivetweb-dev libboost-math-dev
  # OpenSSL: the metrics endpoint's TLS (civetweb loads libssl.so) and the Community ID's SHA-1; YAML and
  # bcrypt (libcrypt) for the web config; libsystemd for sd_notify
  libssl-dev libyaml-cpp-dev libcrypt-dev libsystemd-dev
  # IPFIX export (lib/ipfix) and its system test: libfixbuf, ipfixDump, nfcapd/nfdump
  libfixbuf-dev libfixbuf-tools nfdump
  # micro-benchmarks (bench/micro, built only when found)
  libbenchmark-dev
  # live-mode tests: a real Prometheus server and promtool, Alertmanager and amtool, testpmd (in dpdk),
  # namespaces for real TCP, tmux (a real terminal for `synscope top`)
  prometheus prometheus-alertmanager curl iproute2 ethtool tmux
  # service tests: the units (systemd-analyze), dpdk-devbind.py's lspci, a test CA (openssl)
  systemd pciutils openssl
  # cross-checking, crafting and benchmarking captures
  python3 python3-scapy bc argus-server argus-client tshark tcpreplay valgrind
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
