#!/usr/bin/env python3
"""System test of the live drill-down and the health endpoints: `synscope [EAL] -- run --clock packet` on a
net_pcap vdev holding a generated capture with an outage at one server, then

  * `/-/healthy` and `/-/ready` answer 200, the landing page names the version and the ports' link state;
  * once the capture is consumed and the view republished, GET /api/v1/top checked against exact counts
    from `--sessions-out` of the same run (every entry within its bound: top_truth.py), the outage server
    heading the 24-hour servers list, and /metrics' synscope_top_hits agreeing with it;
  * `synscope top` once to a pipe, and in a real terminal (tmux) refreshing until Ctrl-C: the outage server
    is the first row of its servers table; an unreachable URL is exit 2 naming it.

Exit 77 when tmux is missing.
Usage: live_top_test.py SYNSCOPE SYNSCOPE_GEN
"""
import json, os, re, shutil, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import top_truth  # noqa: E402
from system_support import eal, fail, free_port, stop  # noqa: E402

synscope, gen = sys.argv[1:3]
if shutil.which("tmux") is None:
    print("SKIP: tmux not installed (bash scripts/install-deps.sh)")
    sys.exit(77)


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


work = tempfile.mkdtemp(prefix="synscope-live-top-")
tmux_session = f"synscope-top-{os.getpid()}"
proc = None
try:
    cap, sessions = os.path.join(work, "day.pcap"), os.path.join(work, "s.jsonl")
    r = subprocess.run([gen, "-o", cap, "-n", "3000", "--seed", "41", "--window", "7200", "--start", "1699920000",
                        "--servers", "100", "--microseconds", "--surge", "5400:600:refused:300:one"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"synscope-gen: {r.stderr}")
    outage = r.stderr.split("surge server: ")[1].split()[0]
    frames = int(re.search(r": (\d+) frames", r.stderr).group(1))
    port = free_port()
    err = open(os.path.join(work, "synscope.err"), "w")
    proc = subprocess.Popen(
        [synscope] + eal(f"synscope-top-{os.getpid()}", f"net_pcap0,rx_pcap={cap}") + ["--", "run",
         "--clock", "packet", "--sessions-out", sessions, "--metrics-listen", f"127.0.0.1:{port}",
         "--duration", "120", "-q"], stderr=err)

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if get(port, "/-/healthy")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None:
            fail("synscope exited: " + open(os.path.join(work, "synscope.err")).read()[-2000:])
        time.sleep(0.2)
    else:
        fail("/-/healthy never answered")
    status, body = get(port, "/-/ready")
    if status != 200:
        fail(f"/-/ready: {status} {body}")
    status, body = get(port, "/")
    if status != 200 or "version" not in body or "link up" not in body or "/api/v1/top" not in body:
        fail(f"landing page: {status} {body[:500]}")

    # Wait until every frame is in, then until the session file stops growing (sessions that closed on the
    # wire are written; the rest stay open under the packet clock), then for the view to be republished.
    def rx():
        text = get(port, "/metrics")[1]
        return sum(float(v) for v in re.findall(r"^synscope_rx_packets_total\{[^}]*\} (\S+)$", text, re.M))
    while time.time() < deadline and rx() < frames:
        time.sleep(0.2)
    last = -1
    while time.time() < deadline:
        n = sum(1 for _ in open(sessions)) if os.path.exists(sessions) else 0
        if n == last and n > 0:
            break
        last = n
        time.sleep(1.5)
    time.sleep(2.5)
    status, body = get(port, "/api/v1/top")
    if status != 200:
        fail(f"/api/v1/top: {status}")
    view = json.loads(body)
    records = [json.loads(line) for line in open(sessions)]
    try:
        checked = top_truth.check(view, records)
    except AssertionError as e:
        fail(f"/api/v1/top against --sessions-out: {e}")
    head = view["windows"]["24h"]["servers"][0]
    if head["key"] != outage or head["reasons"].get("rejected", 0) < 300:
        fail(f"24h servers head {head}, want {outage} with >= 300 rejected")
    metrics = get(port, "/metrics")[1]
    lag = re.search(r"^synscope_bucket_lag_seconds (\S+)$", metrics, re.M)
    if not lag or not 0 <= float(lag.group(1)) < 3600:
        fail(f"bucket lag under --clock packet: {lag.group(0) if lag else None} (the capture is from 2023)")
    m = re.search(r'^synscope_top_hits\{window="24h",kind="servers",rank="1",key="([^"]+)"\} (\S+)$', metrics, re.M)
    if not m or m.group(1) != outage or float(m.group(2)) != head["count"]:
        fail(f"synscope_top_hits rank 1: {m.group(0) if m else None}, want {outage} {head['count']}")
    print(f"/api/v1/top: {checked} entries within their bounds of {len(records)} sessions; outage {outage} "
          f"heads 24h servers ({head['count']}); /metrics agrees; /-/healthy, /-/ready, / ok")

    url = f"http://127.0.0.1:{port}"
    r = subprocess.run([synscope, "top", "--url", url, "--window", "24h", "--count", "1"], capture_output=True,
                       text=True, timeout=30)
    rows = [l for l in r.stdout.splitlines() if re.match(r"^\s+1\s", l)]
    if r.returncode != 0 or not rows or outage not in rows[0]:
        fail(f"synscope top (pipe): rc {r.returncode}\n{r.stdout}\n{r.stderr}")
    r = subprocess.run([synscope, "top", "--url", f"http://127.0.0.1:{free_port()}", "--count", "1"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 2 or "cannot connect" not in r.stderr:
        fail(f"synscope top, nobody listening: rc {r.returncode} {r.stderr}")

    subprocess.run(["tmux", "new-session", "-d", "-s", tmux_session, "-x", "160", "-y", "60",
                    f"{synscope} top --url {url} --window 24h --interval 0.5; echo EXITED=$?; sleep 30"], check=True)
    screen = ""
    for _ in range(40):
        time.sleep(0.25)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", tmux_session], capture_output=True,
                                text=True).stdout
        if "servers" in screen:
            break
    lines = screen.splitlines()
    if not lines or not lines[0].startswith("synscope top"):
        fail(f"tmux: the screen does not start with the header:\n{screen}")
    first = next((l for l in lines[lines.index("servers") + 1:] if re.match(r"^\s+1\s", l)), "") \
        if "servers" in lines else ""
    if outage not in first:
        fail(f"tmux: first servers row {first!r}, want {outage}:\n{screen}")
    subprocess.run(["tmux", "send-keys", "-t", tmux_session, "C-c"], check=True)
    for _ in range(40):
        time.sleep(0.25)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", tmux_session], capture_output=True,
                                text=True).stdout
        if "EXITED=" in screen:
            break
    if "EXITED=0" not in screen:
        fail(f"tmux: synscope top did not exit 0 on Ctrl-C:\n{screen}")
    print(f"synscope top: first row {first.split()[1]} in a pipe and in tmux; exit 0 on Ctrl-C; "
          "exit 2 when nobody listens")

    # A net_pcap vdev reading a file without --clock: the capture's own times, said on stderr (the TSC would
    # fold its two hours into one bucket).
    buckets = os.path.join(work, "b.jsonl")
    r = subprocess.run([synscope] + eal(f"synscope-top2-{os.getpid()}", f"net_pcap0,rx_pcap={cap}") + ["--", "run", "--buckets-out", buckets, "--metrics-listen", "none", "--idle-exit", "1"],
                       capture_output=True, text=True, timeout=120)
    starts = {json.loads(line)["ts"] for line in open(buckets)} if os.path.exists(buckets) else set()
    if r.returncode != 0 or "timing packets by their capture times" not in r.stderr or len(starts) < 100:
        fail(f"net_pcap without --clock: rc {r.returncode}, {len(starts)} buckets\n{r.stderr[-1500:]}")
    print(f"net_pcap without --clock: capture times ({len(starts)} one-minute buckets over the 2-hour capture)")
finally:
    subprocess.run(["tmux", "kill-session", "-t", tmux_session], capture_output=True)
    if proc is not None:
        stop([proc])
    shutil.rmtree(work, ignore_errors=True)
