#!/usr/bin/env python3
"""Helpers of bench/run.sh (standard library only).

  table.py parse-handshake LOG         cargo bench --bench handshake output -> result rows
  table.py parse-criterion LOG         criterion output (cargo bench --bench render) -> rows
  table.py export-manifests KUBECTL KUBECONFIG FROM_PREFIX TO_PREFIX N DIR
                                       the objects our provider applied in FROM_PREFIX0..N-1,
                                       as JSON manifests for namespaces TO_PREFIX0..N-1
  table.py sample-processes OUT DIR     memory and CPU of the provider and terraform processes
                                       working in DIR, every 50 ms until killed
  table.py parse-requests < METRICS  the API server's /metrics -> "VERB resource count" lines
  table.py diff-requests BEFORE LABEL RESULTS BREAKDOWN < NOW
                                       requests since BEFORE: a total row into RESULTS, the
                                       breakdown by verb and resource into BREAKDOWN
  table.py table RESULTS FACTS [--doc FILE] [--requests BREAKDOWN]
                                       the table (median/min/max ms, ratio kubernetes_manifest
                                       / ours); with --doc also written into FILE between the
                                       BEGIN/END bench markers

Result rows are tab-separated: label, value, note. A value is in ms unless the label says
MiB; rows with a non-empty note are kept apart (failed runs). Pre-summarised rows (from the
cargo benches) carry "summary:MEDIAN:MIN:MAX:N" as the value.
"""

import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

BEGIN = "<!-- BEGIN bench table (bench/run.sh writes this block) -->"
END = "<!-- END bench table -->"


def parse_handshake(log):
    # "spawn -> handshake line    median     3.10 ms   min     2.90   max     4.00   (30 runs)"
    pat = re.compile(r"^(.*?)\s+median\s+([\d.]+)\s+(\w+)\s+min\s+([\d.]+)\s+max\s+([\d.]+)\s+\((\d+) runs\)")
    for line in Path(log).read_text().splitlines():
        m = pat.match(line.strip())
        if m:
            name, med, unit, lo, hi, n = m.groups()
            label = f"provider launch: {name} [{unit}]"
            print(f"{label}\tsummary:{med}:{lo}:{hi}:{n}\t")


UNITS_MS = {"ps": 1e-9, "ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_criterion(log):
    # "render quickstart stack\n                        time:   [12.3 µs 12.5 µs 12.8 µs]"
    # (or on one line when the name is short)
    lines = Path(log).read_text().splitlines()
    num = r"([\d.]+)\s*(ps|ns|µs|us|ms|s)"
    pat = re.compile(r"time:\s+\[" + num + r"\s+" + num + r"\s+" + num + r"\]")
    prev = ""
    for line in lines:
        m = pat.search(line)
        if m:
            name = line[: m.start()].strip() or prev
            v = [float(m.group(i)) * UNITS_MS[m.group(i + 1)] for i in (1, 3, 5)]
            print(f"render: {name} [ms, criterion mean and its 95% CI]\tsummary:{v[1]}:{v[0]}:{v[2]}:criterion\t")
        elif line.strip() and not line.startswith(" "):
            prev = line.strip()


KINDS = "deployments,statefulsets,services,configmaps,poddisruptionbudgets,serviceaccounts,secrets"
DROP_META = {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
             "selfLink", "ownerReferences", "finalizers", "deletionTimestamp"}


def clean(obj, ns):
    """An applied object as one would write it: no status, no server-set metadata, no
    allocated addresses; namespace moved."""
    obj.pop("status", None)
    meta = obj["metadata"]
    for k in DROP_META:
        meta.pop(k, None)
    ann = meta.get("annotations") or {}
    for k in list(ann):
        if k.startswith(("deployment.kubernetes.io/", "kubectl.kubernetes.io/")):
            del ann[k]
    if not ann:
        meta.pop("annotations", None)
    meta["namespace"] = ns
    spec = obj.get("spec") or {}
    if obj["kind"] == "Service":
        for k in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
            if not (k in ("clusterIP", "clusterIPs") and spec.get("clusterIP") == "None"):
                spec.pop(k, None)
    return obj


def export_manifests(kubectl, kubeconfig, src, dst, n, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for i in range(int(n)):
        raw = subprocess.run(
            [kubectl, "--kubeconfig", kubeconfig, "-n", f"{src}{i}", "get", KINDS, "-o", "json",
             "-l", "app.kubernetes.io/managed-by=terraform-provider-thanos"],
            check=True, capture_output=True, text=True).stdout
        for item in json.loads(raw)["items"]:
            obj = clean(item, f"{dst}{i}")
            name = f"{i:03d}-{obj['kind']}-{obj['metadata']['name']}.json"
            (out / name).write_text(json.dumps(obj, indent=1, sort_keys=True))
            count += 1
    print(f"exported {count} objects from {n} namespaces to {out}", file=sys.stderr)


def sample_processes(out, cwd):
    """Every 50 ms until killed: "p|t PID VmHWM_KiB CPU_TICKS" of the provider (p) and terraform
    (t) processes working in directory CWD (so not those of anyone else on the machine),
    appended to OUT (one process reading /proc: light next to what it measures)."""
    import os
    import time
    cwd = os.path.realpath(cwd)
    with open(out, "a") as f:
        while True:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/stat") as st:
                        stat = st.read()
                    name = stat[stat.index("(") + 1: stat.rindex(")")]
                    who = "p" if name.startswith("terraform-provi") else "t" if name == "terraform" else None
                    if who is None or os.readlink(f"/proc/{pid}/cwd") != cwd:
                        continue
                    fields = stat[stat.rindex(")") + 2:].split()
                    ticks = int(fields[11]) + int(fields[12])  # utime, stime
                    hwm = 0
                    with open(f"/proc/{pid}/status") as st:
                        for line in st:
                            if line.startswith("VmHWM:"):
                                hwm = int(line.split()[1])
                    f.write(f"{who} {pid} {hwm} {ticks}\n")
                except (OSError, ValueError):
                    continue
            f.flush()
            time.sleep(0.05)


# Requests the cluster makes on its own whatever we do, left out of the counts.
BACKGROUND = {"leases", "events", "nodes", "tokenreviews", "subjectaccessreviews"}


def parse_requests(text):
    """apiserver_request_total summed by verb and resource (no subresources, no background)."""
    pat = re.compile(r"^apiserver_request_total\{(.*)\}\s+([\d.e+]+)$")
    counts = {}
    for line in text.splitlines():
        m = pat.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        res = labels.get("resource", "")
        if not res or labels.get("subresource") or res in BACKGROUND:
            continue
        k = (labels.get("verb", "?"), res)
        counts[k] = counts.get(k, 0) + int(float(m.group(2)))
    for (verb, res), n in sorted(counts.items()):
        print(f"{verb} {res} {n}")


def read_counts(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[(parts[0], parts[1])] = int(parts[2])
    return out


def diff_requests(before, label, results, breakdown, now_text):
    old = read_counts(Path(before).read_text())
    new = read_counts(now_text)
    diff = {k: n - old.get(k, 0) for k, n in new.items() if n - old.get(k, 0) > 0}
    total = sum(diff.values())
    with open(results, "a") as f:
        f.write(f"API requests: {label} (first run) [count]\tsummary:{total}:{total}:{total}:1\t\n")
    with open(breakdown, "a") as f:
        by = ", ".join(f"{v} {r} {n}" for (v, r), n in sorted(diff.items(), key=lambda kv: (-kv[1], kv[0])))
        f.write(f"{label}\t{total}\t{by}\n")


# (numerator row, denominator row, what the issue asks for)
RATIOS = [
    ("apply, {c}", "reference: kubectl apply --server-side, {c} (same objects)", "apply / kubectl apply --server-side", 1.3),
    ("apply, {c}, wait_for_rollout = false", "reference: kubectl apply --server-side, {c} (same objects)",
     "apply with wait_for_rollout = false (no rollout waits, as kubectl) / kubectl apply --server-side", 1.3),
    ("destroy, {c}", "reference: kubectl delete --wait, {c} (same objects)", "destroy / kubectl delete --wait", 1.3),
    ("destroy, {c}", "reference: kubectl delete --wait --cascade=foreground, {c} (same objects)",
     "destroy / kubectl delete --wait --cascade=foreground", 1.3),
    ("plan, {c} (applied, no changes)", "plan, {c} (empty state)", "plan of the applied stack / offline plan", 2.0),
]


def ratio_rows(s):
    sizes = []
    for label in s:
        m = re.match(r"apply, (\d+ cop(?:y|ies))$", label)
        if m and m.group(1) not in sizes:
            sizes.append(m.group(1))
    out = []
    for c in sizes:
        for num, den, what, target in RATIOS:
            a, b = s.get(num.format(c=c)), s.get(den.format(c=c))
            if a and b and b["median"] > 0 and not a.get("all_failed") and not b.get("all_failed"):
                r = a["median"] / b["median"]
                out.append(f"| ratio: {what}, {c} (target <= {target}) | {r:.2f} |  |  |  | "
                           f"{'met' if r <= target else 'not met'} |")
    return out


def summarise(results):
    rows, failed, order = {}, {}, []
    for line in Path(results).read_text().splitlines():
        if not line.strip():
            continue
        label, value, note = (line.split("\t") + ["", ""])[:3]
        if label not in order:
            order.append(label)
        if value.startswith("summary:"):
            _, med, lo, hi, n = value.split(":")
            rows[label] = (float(med), float(lo), float(hi), n)
            continue
        (failed if note else rows).setdefault(label, []).append(float(value))
    out = {}
    for label in order:
        ok = rows.get(label)
        bad = failed.get(label, [])
        if isinstance(ok, tuple):
            out[label] = {"median": ok[0], "min": ok[1], "max": ok[2], "n": ok[3], "failed": 0}
        elif ok:
            out[label] = {"median": statistics.median(ok), "min": min(ok), "max": max(ok),
                          "n": str(len(ok)), "failed": len(bad)}
        elif bad:
            out[label] = {"median": statistics.median(bad), "min": min(bad), "max": max(bad),
                          "n": f"0 ok, {len(bad)} failed", "failed": len(bad), "all_failed": True}
    return out


def fmt(v):
    if v < 0:
        return "-" + fmt(-v)
    if v >= 100:
        return f"{v:.0f}"
    if v >= 1:
        return f"{v:.1f}"
    return f"{v:.4f}".rstrip("0")


def table(results, facts, doc=None, requests=None):
    s = summarise(results)
    lines = ["| what | median | min | max | runs | kubernetes_manifest / ours (median) |",
             "| --- | ---: | ---: | ---: | --- | ---: |"]
    for label, r in s.items():
        if label.startswith("k8s: "):
            continue
        ratio = ""
        k = s.get("k8s: " + label)
        if k is not None:
            if k.get("all_failed"):
                ratio = f"failed after {fmt(k['median'])} ms"
            else:
                ratio = f"{k['median'] / r['median']:.1f}x ({fmt(k['median'])} ms)"
        elif label.startswith(("plan, ", "apply, ")):
            ratio = "not measured"
        runs = r["n"]
        expected = "(fails)" in label
        if expected and r.get("all_failed"):
            runs = f"{r['failed']} (all failed, as expected)"
        elif r.get("failed") and not r.get("all_failed"):
            runs += f" (+{r['failed']} failed)"
        name = label + (" **(failed)**" if r.get("all_failed") and not expected else "")
        lines.append(f"| {name} | {fmt(r['median'])} | {fmt(r['min'])} | {fmt(r['max'])} | {runs} | {ratio} |")
    # hashring discovery = discovered - static
    d = s.get(next((k for k in s if k.startswith("ring: plan") and "discovered" in k), ""), None)
    st = s.get(next((k for k in s if k.startswith("ring: plan") and "static" in k), ""), None)
    if d and st:
        lines.append(f"| hashring discovery (difference of the two medians above) | "
                     f"{fmt(d['median'] - st['median'])} |  |  |  |  |")
    lines.extend(ratio_rows(s))
    fact_lines = Path(facts).read_text().splitlines()
    if requests and Path(requests).exists() and Path(requests).read_text().strip():
        lines += ["", "API requests per command (first run; every client, background left out; "
                  "APPLY is server-side apply):", ""]
        for line in Path(requests).read_text().splitlines():
            label, total, by = (line.split("\t") + ["", ""])[:3]
            lines.append(f"- {label}: {total} ({by})")
    text = "\n".join(lines)
    print()
    print("\n".join(fact_lines))
    print()
    print(text)
    if doc:
        block = BEGIN + "\n\n" + "\n".join(f"- {l.split('=', 1)[0]}: {l.split('=', 1)[1]}" for l in fact_lines) \
            + "\n\n" + text + "\n\n" + END
        p = Path(doc)
        cur = p.read_text() if p.exists() else ""
        if BEGIN in cur and END in cur:
            cur = cur[: cur.index(BEGIN)] + block + cur[cur.index(END) + len(END):]
        else:
            cur = cur + ("\n" if cur else "") + block + "\n"
        p.write_text(cur)
        print(f"\nwritten to {doc}", file=sys.stderr)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "parse-handshake":
        parse_handshake(argv[2])
    elif cmd == "parse-criterion":
        parse_criterion(argv[2])
    elif cmd == "export-manifests":
        export_manifests(*argv[2:8])
    elif cmd == "sample-processes":
        sample_processes(argv[2], argv[3])
    elif cmd == "parse-requests":
        parse_requests(sys.stdin.read())
    elif cmd == "diff-requests":
        diff_requests(argv[2], argv[3], argv[4], argv[5], sys.stdin.read())
    elif cmd == "table":
        doc = argv[argv.index("--doc") + 1] if "--doc" in argv else None
        requests = argv[argv.index("--requests") + 1] if "--requests" in argv else None
        table(argv[2], argv[3], doc, requests)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
