#!/usr/bin/env python3
"""System test of the monitoring stack in monitoring/ against real servers:

  * `promtool check rules` and `promtool test rules` on the Prometheus rules, `amtool check-config` on the
    Alertmanager example;
  * a lint of the Grafana dashboard (a `datasource` variable of type prometheus on every panel and query,
    `job`/`instance` variables used by every selector, `$__rate_interval` in every rate, a unit on every
    panel, no `__inputs`), which must also catch each of a set of planted mistakes;
  * every panel query evaluated by a real Prometheus that scraped a real synscope run (a generated capture
    looped through the data plane on a net_pcap vdev, 1-second buckets, the rules loaded): each returns data,
    except the firing-partitions table, which has rows only while a server or client alert fires.

Exit 77 when a tool (promtool, prometheus, amtool) is missing.
Usage: monitoring_test.py SYNSCOPE SYNSCOPE_GEN SOURCE_ROOT
"""
import copy, json, os, re, shutil, subprocess, sys, tempfile, time, urllib.parse, urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import eal, fail, free_port, stop  # noqa: E402

synscope, gen, root = sys.argv[1:4]
mon = os.path.join(root, "monitoring")
for tool in ("promtool", "prometheus", "amtool"):
    if shutil.which(tool) is None:
        print(f"SKIP: {tool} not installed (bash scripts/install-deps.sh)")
        sys.exit(77)


def run(cmd, cwd=None):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)}:\n{r.stdout}{r.stderr}")
    return r.stdout


# Rules and Alertmanager config.
run(["promtool", "check", "rules", "synscope-rules.yml"], cwd=os.path.join(mon, "prometheus"))
run(["promtool", "test", "rules", "synscope-rules.test.yml"], cwd=os.path.join(mon, "prometheus"))
run(["amtool", "check-config", "alertmanager.yml"], cwd=os.path.join(mon, "alertmanager"))
print("promtool check/test rules, amtool check-config: ok")

# Dashboard lint.
RATE = re.compile(r"\b(rate|irate|increase)\(([^()]*)\)")
METRIC = re.compile(r"\b(synscope_[a-z_]+)(\{[^}]*\})?")


def targets(panel):
    return panel.get("targets", [])


def lint(d):
    problems = []
    if "__inputs" in d:
        problems.append("__inputs present: provisioning cannot fill it; use the datasource variable")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("no `datasource` template variable of type prometheus")
    for name in ("job", "instance"):
        if name not in variables:
            problems.append(f"no `{name}` template variable")
    for p in d.get("panels", []):
        if p.get("type") == "row":
            continue
        title = p.get("title", "?")
        if (p.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"{title}: panel datasource is not ${{datasource}}")
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{title}: no unit")
        if not targets(p):
            problems.append(f"{title}: no query")
        for t in targets(p):
            if (t.get("datasource") or {}).get("uid") != "${datasource}":
                problems.append(f"{title}: query {t.get('refId')} datasource is not ${{datasource}}")
            expr = t.get("expr", "")
            for m in RATE.finditer(expr):
                if not m.group(2).rstrip().endswith("[$__rate_interval]"):
                    problems.append(f"{title}: {m.group(1)}() without [$__rate_interval]")
            for m in METRIC.finditer(expr):
                sel = m.group(2) or ""
                if 'job="$job"' not in sel or 'instance=~"$instance"' not in sel:
                    problems.append(f"{title}: {m.group(1)} not filtered by $job and $instance")
    return problems


with open(os.path.join(mon, "grafana", "dashboards", "synscope.json")) as f:
    dashboard = json.load(f)
problems = lint(dashboard)
if problems:
    fail("dashboard lint:\n  " + "\n  ".join(problems))
panels = [p for p in dashboard["panels"] if p.get("type") != "row"]


def planted(mutate):
    d = copy.deepcopy(dashboard)
    mutate(d, [p for p in d["panels"] if p.get("type") != "row"])
    return d


mistakes = {
    "__inputs": lambda d, ps: d.__setitem__("__inputs", [{"name": "DS_PROMETHEUS", "type": "datasource"}]),
    "panel datasource": lambda d, ps: ps[0].__setitem__("datasource", {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}),
    "query datasource": lambda d, ps: ps[1]["targets"][0].__setitem__("datasource", None),
    "fixed rate window": lambda d, ps: ps[0]["targets"][0].__setitem__(
        "expr", ps[0]["targets"][0]["expr"].replace("[$__rate_interval]", "[5m]")),
    "no unit": lambda d, ps: ps[2]["fieldConfig"]["defaults"].pop("unit"),
    "unfiltered selector": lambda d, ps: ps[3]["targets"][0].__setitem__(
        "expr", ps[3]["targets"][0]["expr"].replace('instance=~"$instance"', 'instance=~".*"')),
    "no job variable": lambda d, ps: d["templating"].__setitem__(
        "list", [v for v in d["templating"]["list"] if v["name"] != "job"]),
}
for name, mutate in mistakes.items():
    if not lint(planted(mutate)):
        fail(f"the dashboard lint misses a planted mistake: {name}")
print(f"dashboard lint: {len(panels)} panels clean, {len(mistakes)} planted mistakes caught")


# Every panel query against a real Prometheus that scraped a real run.
work = tempfile.mkdtemp(prefix="synscope-monitoring-")
procs = []
try:
    cap = os.path.join(work, "mix.pcap")
    subprocess.run([gen, "-o", cap, "-n", "1000", "--seed", "31", "--window", "60", "--microseconds"], check=True,
                   capture_output=True)
    mport, pport = free_port(), free_port()
    err = open(os.path.join(work, "synscope.err"), "w")
    procs.append(subprocess.Popen(
        [synscope] + eal(f"synscope-mon-{os.getpid()}", f"net_pcap0,rx_pcap={cap},infinite_rx=1") + ["--",
         "run", "--mbufs", "32768", "--bucket", "1", "--bucket-settle", "2", "--alert-bucket", "1",
         "--alerts-out", os.path.join(work, "alerts.jsonl"), "--metrics-listen", f"127.0.0.1:{mport}",
         "--duration", "120", "-q"], stderr=err))
    shutil.copy(os.path.join(mon, "prometheus", "synscope-rules.yml"), work)
    with open(os.path.join(work, "prometheus.yml"), "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [synscope-rules.yml]
scrape_configs:
  - job_name: synscope
    static_configs:
      - targets: ['127.0.0.1:{mport}']
""")
    procs.append(subprocess.Popen(
        ["prometheus", f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
         f"--web.listen-address=127.0.0.1:{pport}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def query(expr):
        url = f"http://127.0.0.1:{pport}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        return json.loads(urllib.request.urlopen(url, timeout=5).read())

    def substitute(expr):
        return (expr.replace("$__rate_interval", "15s").replace('job="$job"', 'job="synscope"')
                .replace('instance=~"$instance"', 'instance=~".*"').replace("$window", "15m"))

    # Wait for 20 s of scrapes after synscope answers (rates over 15 s need at least two samples of each).
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            r = query('synscope_rx_packets_total{job="synscope"}')
            if r["data"]["result"]:
                break
        except OSError:
            pass
        if procs[0].poll() is not None:
            fail("synscope exited: " + open(os.path.join(work, "synscope.err")).read()[-2000:])
        time.sleep(0.5)
    else:
        fail("Prometheus never scraped synscope")
    time.sleep(20)
    empty = []
    for p in panels:
        only_while_firing = all("synscope_alert_partition_" in t["expr"] for t in targets(p))
        for t in targets(p):
            r = query(substitute(t["expr"]))
            if r.get("status") != "success":
                fail(f"{p['title']}: {t['expr']}: {r}")
            if not r["data"]["result"] and not only_while_firing:
                empty.append(f"{p['title']} [{t['refId']}]: {t['expr']}")
    if empty:
        fail("panel queries without data:\n  " + "\n  ".join(empty))
    n = sum(len(targets(p)) for p in panels)
    for record in ("synscope:sessions:rate5m", "synscope:rx_packets:rate1m", "synscope:flow_table_fill:ratio"):
        if not query(record)["data"]["result"]:
            fail(f"recording rule {record} has no data")
    print(f"Prometheus: {n} panel queries of {len(panels)} panels return data; recording rules evaluate")
finally:
    stop(procs)
    shutil.rmtree(work, ignore_errors=True)
