#!/usr/bin/env bash
# System test of live mode's endpoints: runs `synscope [EAL] -- run` on a net_pcap vdev holding a generated
# capture with a known number of sessions per conn_state, then
#   * scrapes /metrics, checks the frame accounting and the session counters against the ground truth,
#     and runs `promtool check metrics` on the scrape;
#   * starts a real Prometheus server on loopback, lets it scrape synscope, and checks the same figures
#     through Prometheus's HTTP query API;
#   * reads /synscope/stats over rte_telemetry's socket (what dpdk-telemetry.py does);
#   * checks the landing page, SIGTERM (exit 0, every session written) and start-up errors (busy port,
#     bad option value).
# Exit 77 when a required tool (promtool, prometheus, curl) is missing.
set -euo pipefail
synscope=$1
gen=$2
for tool in promtool prometheus curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (bash scripts/install-deps.sh)"; exit 77; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/synscope.err" ] && tail -20 "$work/synscope.err" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$gen" -o "$work/mix.pcap" -n 2000 --seed 21 --window 600 --microseconds 2> "$work/gen.txt"
frames=$(sed -E 's/.*: ([0-9]+) frames.*/\1/' "$work/gen.txt")
rej=$(grep -oE '\(REJ\)=[0-9]+' "$work/gen.txt" | cut -d= -f2)
port=$(free_port)
prefix="synscope-sys-$$"
eal=(-l 0-1 --no-huge -m 512 --no-pci --log-level lib.eal:warning --file-prefix="$prefix"
     --vdev "net_pcap0,rx_pcap=$work/mix.pcap")

"$synscope" "${eal[@]}" -- run --clock packet --metrics-listen "127.0.0.1:$port" \
  --sessions-out "$work/s.jsonl" --buckets-out "$work/b.jsonl" --alerts-out "$work/a.jsonl" 2> "$work/synscope.err" &
spid=$!
pids+=("$spid")

# Wait until every frame is received and the REJ sessions are counted (they are counted at the RST).
python3 - "$port" "$frames" "$rej" <<'PY' || fail "metrics never reached the expected values"
import re, sys, time, urllib.request
port, frames, rej = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        time.sleep(0.2); continue
    def total(name, match=""):
        return sum(float(m.group(2)) for m in re.finditer(rf"^{name}{{([^}}]*)}} (\S+)$", text, re.M) if match in m.group(1))
    rx = total("synscope_rx_packets_total")
    got_rej = total("synscope_sessions_total", 'conn_state="REJ"')
    if rx == frames and got_rej == rej:
        frames_sum = total("synscope_frames_total")
        drops = total("synscope_drops_total", 'reason="ring_full"') + total("synscope_drops_total", 'reason="table_full"') + total("synscope_drops_total", 'reason="implausible_time"')
        assert frames_sum + drops == rx, f"accounting: frames {frames_sum} + drops {drops} != rx {rx}"
        failed_rej = total("synscope_failed_sessions_total", 'reason="rejected"')
        assert failed_rej == rej, f"failed_sessions_total rejected {failed_rej} != {rej}"
        assert "synscope_handshake_rtt_seconds_bucket" in text and "synscope_build_info" in text
        print(f"/metrics: rx {rx:.0f} == {frames} frames, REJ {got_rej:.0f} == {rej}")
        sys.exit(0)
    time.sleep(0.2)
print(f"last: rx={rx} rej={got_rej}")
sys.exit(1)
PY

curl -sf "http://127.0.0.1:$port/metrics" > "$work/scrape.txt"
promtool check metrics < "$work/scrape.txt" || fail "promtool check metrics rejected the scrape"
grep -q "^synscope_failed_sessions_anomaly_score{perspective=\"inbound\"}" "$work/scrape.txt" || fail "detector gauges missing with --alerts-out"
echo "promtool check metrics: ok"
curl -sf "http://127.0.0.1:$port/" > "$work/landing.html" || fail "landing page at / did not answer"
grep -q '<a href="/metrics">' "$work/landing.html" || fail "landing page at / missing"

# rte_telemetry: the same figures over DPDK's telemetry socket.
python3 - "$prefix" "$frames" <<'PY' || fail "rte_telemetry /synscope/stats"
import json, socket, sys
path = f"/var/run/dpdk/{sys.argv[1]}/dpdk_telemetry.v2"
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
s.recv(4096)  # greeting
s.send(b"/synscope/stats")
stats = json.loads(s.recv(65536))["/synscope/stats"]
assert stats["rx_packets"] == int(sys.argv[2]), stats
print(f"rte_telemetry /synscope/stats: rx_packets {stats['rx_packets']}, sessions_REJ {stats['sessions_REJ']}")
PY

# A real Prometheus server scrapes synscope; query it back through its HTTP API.
pport=$(free_port)
cat > "$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: synscope
    static_configs: [{targets: ["127.0.0.1:$port"]}]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$pport" > "$work/prometheus.log" 2>&1 &
pids+=("$!")
python3 - "$pport" "$frames" "$rej" <<'PY' || { tail -5 "$work/prometheus.log"; fail "Prometheus query API"; }
import json, sys, time, urllib.parse, urllib.request
pport, frames, rej = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def query(q):
    url = f"http://127.0.0.1:{pport}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    r = json.loads(urllib.request.urlopen(url, timeout=2).read())
    return [float(x["value"][1]) for x in r["data"]["result"]]
deadline = time.time() + 60
while time.time() < deadline:
    try:
        up = query('up{job="synscope"}')
        rx = query("sum(synscope_rx_packets_total)")
        rj = query('sum(synscope_sessions_total{conn_state="REJ"})')
        if up == [1.0] and rx == [frames] and rj == [rej]:
            print(f"prometheus: up=1, sum(rx)={rx[0]:.0f}, REJ={rj[0]:.0f}")
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit(1)
PY

# Start-up errors: the metrics port is busy; a bad option value.
if "$synscope" -l 0-1 --no-huge -m 256 --no-pci --file-prefix="$prefix-b" --vdev "net_pcap0,rx_pcap=$work/mix.pcap" \
     -- run --metrics-listen "127.0.0.1:$port" --duration 1 2> "$work/busy.err"; then fail "busy metrics port accepted"; fi
grep -q -- "--metrics-listen 127.0.0.1:$port" "$work/busy.err" || { cat "$work/busy.err"; fail "busy port error does not name the address"; }
if "$synscope" -- run --rx-queues 0 2> "$work/bad.err"; then fail "--rx-queues 0 accepted"; fi
grep -q -- "--rx-queues" "$work/bad.err" || { cat "$work/bad.err"; fail "bad value error does not name the option"; }
# Into a file, not a pipe to grep -q: grep leaves at its first match, and the rest of the dump would then
# meet a closed pipe (under pipefail, a race the slower sanitizer build lost).
"$synscope" -- run --dump-config --bucket 5 > "$work/dump.toml" || fail "--dump-config failed"
grep -q "^bucket=5" "$work/dump.toml" || fail "--dump-config does not show the effective value"

# SIGTERM: exit 0 with every session written.
kill -TERM "$spid"
wait "$spid" || fail "synscope exited $? on SIGTERM"
sessions=$(wc -l < "$work/s.jsonl")
[ "$sessions" -eq 2000 ] || fail "$sessions of 2000 sessions written after SIGTERM"
[ -s "$work/b.jsonl" ] || fail "no bucket written after SIGTERM"
echo "SIGTERM: exit 0, $sessions sessions and $(wc -l < "$work/b.jsonl") bucket records written"

# Per-partition alert series: two days and 15 hours of traffic to 300 servers, ending while one server's
# outage (third day, 14:30) is still firing. While it fires, its series is on /metrics, labelled with the
# partition the alert line names; promtool accepts the scrape.
start=1699920000
"$gen" -o "$work/servers.pcap" -n 30000 --servers 300 --seed 11 --window $((2 * 86400 + 15 * 3600)) --start $start \
  --diurnal 0.7 --exchanges 1 --microseconds --surge $((2 * 86400 + 14 * 3600 + 1800)):1800:refused:40:one 2> /dev/null
aport=$(free_port)
"$synscope" -l 0-1 --no-huge -m 512 --no-pci --log-level lib.eal:warning --file-prefix="$prefix-a" \
  --vdev "net_pcap0,rx_pcap=$work/servers.pcap" -- run --clock packet --bucket 900 --metrics-listen "127.0.0.1:$aport" \
  --alerts-out "$work/servers.alerts" 2> "$work/synscope.err" &
apid=$!
pids+=("$apid")
python3 - "$aport" "$work/servers.alerts" <<'PY' || fail "per-partition alert series"
import json, re, sys, time, urllib.request
port, alerts = sys.argv[1], sys.argv[2]
deadline = time.time() + 90
while time.time() < deadline:
    time.sleep(0.5)
    try:
        firing = [json.loads(l) for l in open(alerts)]
    except (OSError, ValueError):
        continue
    firing = [al for al in firing if al["state"] == "firing" and al["partition"] != "all"]
    if not firing:
        continue
    al = firing[0]
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    m = re.search(r'^synscope_alert_partition_anomaly_score\{([^}]*)\} (\S+)$', text, re.M)
    if not m:
        continue  # the stats core publishes every 2 ms; the alert line may be ahead of the scrape
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
    assert labels == {"metric": "failed_sessions", "perspective": al["perspective"], "partition": al["partition"]}, (labels, al)
    assert abs(float(m.group(2)) - al["score"]) < 0.1, (m.group(2), al)
    assert re.search(r"^synscope_alert_partitions_firing (\S+)$", text, re.M).group(1) != "0"
    open(sys.argv[2] + ".scrape", "w").write(text)
    print(f"per-partition series while firing: partition {al['partition']} score {al['score']}")
    sys.exit(0)
sys.exit(1)
PY
promtool check metrics < "$work/servers.alerts.scrape" || fail "promtool rejected the scrape with partition series"
kill -TERM "$apid"
wait "$apid" || fail "synscope exited $? on SIGTERM (alerts run)"
echo "live metrics system test: ok"
