#!/usr/bin/env python3
"""End to end: synscope -> Prometheus (with monitoring/prometheus/synscope-rules.yml) -> Alertmanager (Debian's
prometheus-alertmanager) -> a webhook receiver in this test.

A generated two-day capture with an outage at one server (all its sessions refused for six hours on the
second afternoon) is played through the live data plane on a net_pcap vdev at 4320x its own pace (two
days in 40 s, `--pace`), with the detector on. The webhook must receive SynscopePartitionAnomaly firing
for the outage server (its partition label), then the same alert resolved; nothing else may name another
server. Reports the wall time from the surge's first packet to the firing notification.

Exit 77 when prometheus or prometheus-alertmanager is missing.
Usage: alertmanager_e2e_test.py SYNSCOPE SYNSCOPE_GEN SOURCE_ROOT
"""
import http.server, json, os, shutil, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import eal, fail, free_port, stop  # noqa: E402

synscope, gen, root = sys.argv[1:4]
for tool in ("prometheus", "prometheus-alertmanager"):
    if shutil.which(tool) is None:
        print(f"SKIP: {tool} not installed (bash scripts/install-deps.sh)")
        sys.exit(77)

PACE = 4320
START = 1699920000  # Tuesday 00:00 UTC
SURGE_AT = 86400 + 13 * 3600  # day 2, 13:00


notifications = []


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        notifications.append((time.time(), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


work = tempfile.mkdtemp(prefix="synscope-am-e2e-")
procs = []
hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()
try:
    cap = os.path.join(work, "days.pcap")
    r = subprocess.run([gen, "-o", cap, "-n", "8000", "--seed", "53", "--window", str(2 * 86400), "--start",
                        str(START), "--servers", "150", "--diurnal", "0.5", "--microseconds",
                        "--surge", f"{SURGE_AT}:{6 * 3600}:refused:1400:one"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"synscope-gen: {r.stderr}")
    outage = r.stderr.split("surge server: ")[1].split()[0]
    mport, pport, aport = free_port(), free_port(), free_port()
    with open(os.path.join(work, "alertmanager.yml"), "w") as f:
        f.write(f"""route:
  receiver: hook
  group_by: [alertname, instance, perspective, partition]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: 'http://127.0.0.1:{hook.server_address[1]}/'
        send_resolved: true
""")
    shutil.copy(os.path.join(root, "monitoring", "prometheus", "synscope-rules.yml"), work)
    with open(os.path.join(work, "prometheus.yml"), "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [synscope-rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{aport}']
scrape_configs:
  - job_name: synscope
    static_configs:
      - targets: ['127.0.0.1:{mport}']
""")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs.append(subprocess.Popen(["prometheus-alertmanager", f"--config.file={work}/alertmanager.yml",
                                   f"--storage.path={work}/am", f"--web.listen-address=127.0.0.1:{aport}",
                                   "--cluster.listen-address="], **quiet))
    procs.append(subprocess.Popen(["prometheus", f"--config.file={work}/prometheus.yml",
                                   f"--storage.tsdb.path={work}/tsdb", f"--web.listen-address=127.0.0.1:{pport}"],
                                  **quiet))
    time.sleep(3)  # both up and Prometheus scraping before the capture starts
    err = open(os.path.join(work, "synscope.err"), "w")
    started = time.time()
    synscope_proc = subprocess.Popen(
        [synscope] + eal(f"synscope-am-{os.getpid()}", f"net_pcap0,rx_pcap={cap}") + ["--", "run",
         "--clock", "packet", "--pace", str(PACE), "--alerts-out", os.path.join(work, "alerts.jsonl"),
         "--metrics-listen", f"127.0.0.1:{mport}", "--duration", "90", "-q"], stderr=err)
    procs.insert(0, synscope_proc)

    def fired_and_resolved():
        firing = [(t, a) for t, n in notifications for a in n["alerts"]
                  if a["labels"].get("alertname") == "SynscopePartitionAnomaly" and a["status"] == "firing"]
        resolved = [(t, a) for t, n in notifications for a in n["alerts"]
                    if a["labels"].get("alertname") == "SynscopePartitionAnomaly" and a["status"] == "resolved"]
        return firing, resolved

    deadline = time.time() + 100
    while time.time() < deadline:
        firing, resolved = fired_and_resolved()
        if firing and resolved:
            break
        if synscope_proc.poll() is not None and synscope_proc.returncode != 0:
            fail("synscope exited: " + open(os.path.join(work, "synscope.err")).read()[-2000:])
        time.sleep(0.5)
    firing, resolved = fired_and_resolved()
    if not firing:
        lines = open(os.path.join(work, "alerts.jsonl")).read()
        fail(f"no SynscopePartitionAnomaly firing reached the webhook; alerts-out:\n{lines[-3000:]}")
    partitions = {a["labels"].get("partition") for _, a in firing}
    if partitions != {outage}:
        fail(f"firing partitions {partitions}, want only {outage}")
    if not any(a["labels"].get("partition") == outage for _, a in resolved):
        fail("the outage's alert never resolved at the webhook")
    a = firing[0][1]
    if not a["annotations"].get("summary", "").startswith(f"Failed sessions at {outage}"):
        fail(f"summary {a['annotations']}")
    # The surge's first packet is handed on (SURGE_AT - first packet) / PACE after the first one, which is
    # within a second of the start (the capture starts with traffic).
    surge_wall = started + SURGE_AT / PACE
    print(f"Alertmanager: {outage} firing {firing[0][0] - surge_wall:.1f} s after its surge began (wall, at "
          f"{PACE}x: detector bucket 300 s + settle 360 s of capture time = {660 / PACE:.2f} s, then scrape, "
          f"rule evaluation and group_wait of 1 s each), resolved {resolved[0][0] - firing[0][0]:.1f} s later; "
          f"severity {a['labels'].get('severity')}")
finally:
    stop(procs)
    hook.shutdown()
    shutil.rmtree(work, ignore_errors=True)
