"""Turns measured benchmarks into the two files of a run: a Markdown page
with one table per benchmark (median, spread, ratios to each peer) and a JSON
document with every sample, for scripts and for comparing runs.
"""

import json
import os

from .core import OK, ratios


def _ms(v):
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _ratio(v):
    return f"{v:.2f}×"


def benchmark_json(bench, subjects):
    doc = {
        "name": bench.name,
        "findings": bench.findings,
        "summary": bench.summary,
        "settle_s": bench.settle,
        "subjects": [s.to_json() for s in subjects],
        "ratios": {
            k: {b: round(r, 4) for b, r in v.items()} for k, v in ratios(subjects).items()
        },
    }
    results = bench.results()
    if results is not None:
        doc["results"] = results
    return doc


def _cell(text):
    return str(text).replace("|", "\\|")


def grid(head, rows):
    """A Markdown table of HEAD and ROWS (lists of cells)."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [_cell(c) for c in row] + [""] * (len(head) - len(row))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(subjects):
    """Markdown table of one benchmark's subjects.  When the subjects time
    several operations (groups), a first column names the operation and
    the ratios are taken within it."""
    rat = ratios(subjects)
    bases = []
    for s in subjects:
        if s.role in ("peer", "floor") and s.name in rat and s.engine not in bases:
            bases.append(s.engine)
    grouped = any(s.group for s in subjects)
    head = (["operation"] if grouped else []) + ["subject", "median ms", "IQR ms", "min ms",
                                                 "max ms", "runs"]
    head += [f"vs {b}" for b in bases]
    rows = []
    for s in subjects:
        st = s.stats()
        first = [s.group] if grouped else []
        label = s.engine if grouped else s.name
        if s.status == OK and st:
            row = first + [
                f"**{label}**" if s.role == "berth" else label,
                _ms(st["median_ms"]),
                _ms(st["iqr_ms"]),
                _ms(st["min_ms"]),
                _ms(st["max_ms"]),
                str(st["runs"]),
            ]
            row += ["—" if b == s.engine else
                    _ratio(rat[s.name][b]) if b in rat[s.name] else "" for b in bases]
        else:
            row = first + [label, f"{s.status}: {s.error}"]
        rows.append(row)
    return grid(head, rows)


def findings_table(findings):
    """Markdown table of what a benchmark measured besides time."""
    metrics = []
    for values in findings.values():
        metrics += [m for m in values if m not in metrics]
    lines = ["| subject | " + " | ".join(metrics) + " |", "|" + "---|" * (len(metrics) + 1)]
    for name, values in findings.items():
        cells = [str(values.get(m, "")) for m in metrics]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(doc, results):
    """The whole Markdown page of a run."""
    m = doc["machine"]
    out = [
        f"# berth benchmarks, {doc['date']}",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB",
        f"- system: {m['distribution']}, kernel {m['kernel']}, cgroups {m['cgroups']}",
        f"- settings: {doc['runs']} timed runs after {doc['warmup']} warm-up "
        f"{'round' if doc['warmup'] == 1 else 'rounds'}, subjects interleaved"
        + (" (quick)" if doc["quick"] else ""),
        "- versions: " + "; ".join(f"{k} `{v}`" for k, v in doc["versions"].items()),
        f"- berth commit: `{doc['berth_commit']}`",
    ]
    for bench, subjects in results:
        own = bench.table(subjects)
        summary = bench.summary
        if bench.settle:
            summary += f" Each command starts {bench.settle:g} s after the one before."
        out += ["", f"## {bench.name}", "", summary, "", own or table(subjects), ""]
        if bench.findings:
            out += [findings_table(bench.findings), ""]
        for s in subjects:
            out.append(f"- `{s.name}`: `{s.command}`")
    out.append("")
    return "\n".join(out)


def write(outdir, stem, doc, md):
    """Writes STEM.json and STEM.md into outdir (each through a .tmp file
    renamed into place); returns their paths."""
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for ext, text in (("json", json.dumps(doc, indent=2) + "\n"), ("md", md)):
        path = os.path.join(outdir, f"{stem}.{ext}")
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        paths.append(path)
    return paths
