#!/usr/bin/env python3
"""Helpers of bench/run.sh (standard library only).

  table.py parse-handshake LOG         cargo bench --bench handshake output -> result rows
  table.py parse-criterion LOG         criterion output (cargo bench --bench render) -> rows
  table.py export-manifests KUBECTL KUBECONFIG FROM_PREFIX TO_PREFIX N DIR
                                       the objects our provider applied in FROM_PREFIX0..N-1,
                                       as JSON manifests for namespaces TO_PREFIX0..N-1
  table.py table RESULTS FACTS [--doc FILE]
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


def table(results, facts, doc=None):
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
    fact_lines = Path(facts).read_text().splitlines()
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
    elif cmd == "table":
        doc = argv[argv.index("--doc") + 1] if "--doc" in argv else None
        table(argv[2], argv[3], doc)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
