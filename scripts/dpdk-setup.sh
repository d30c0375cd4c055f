#!/usr/bin/env bash
# Prepares a host for synscope with DPDK's own scripts: reserves hugepages (dpdk-hugepages.py) and binds
# the NICs to a DPDK driver (dpdk-devbind.py). Run as root, by synscope-dpdk-setup.service or by hand.
#   dpdk-setup.sh setup    reserve SYNSCOPE_HUGEPAGES (e.g. 2G) and mount hugetlbfs, then bind each PCI
#                          address in SYNSCOPE_NICS (space-separated) to SYNSCOPE_DRIVER (vfio-pci)
#   dpdk-setup.sh status   what dpdk-hugepages.py and dpdk-devbind.py report
# mlx5 NICs stay on their kernel driver (bifurcated): leave them out of SYNSCOPE_NICS.
set -euo pipefail
action=${1:-status}
hugepages=${SYNSCOPE_HUGEPAGES:-2G}
nics=${SYNSCOPE_NICS:-}
driver=${SYNSCOPE_DRIVER:-vfio-pci}
for tool in dpdk-hugepages.py dpdk-devbind.py; do
  command -v "$tool" > /dev/null || { echo "dpdk-setup: $tool not found (Debian package dpdk)" >&2; exit 2; }
done
case "$action" in
  setup)
    dpdk-hugepages.py --pagesize 2M --setup "$hugepages"
    if [ -n "$nics" ]; then
      modprobe "$driver"
      for nic in $nics; do dpdk-devbind.py --bind="$driver" "$nic"; done
    fi
    dpdk-hugepages.py --show
    ;;
  status)
    dpdk-hugepages.py --show
    dpdk-devbind.py --status-dev net
    ;;
  *)
    echo "usage: dpdk-setup.sh setup|status" >&2
    exit 1
    ;;
esac
