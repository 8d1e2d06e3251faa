"""Tables, ratios and the bar chart of an ``irsnn bench`` run.

Requires only the result dict of :func:`irsnn.bench.runner.run_bench` (and matplotlib, when
installed, for the chart). Provides :func:`describe_entry` (one log line), :func:`ratios`
(irsnn over each peer), :func:`markdown` (the table), :func:`plot` (the PNG bar chart) and
:func:`write_outputs` (``bench.json``, ``bench.md`` and ``bench.png`` in one folder).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

def _g(v, fmt=".3g"):
    return "-" if v is None else format(v, fmt)


def describe_entry(e: dict) -> str:
    """One line about result entry ``e``: what ran, its rates and firing rates."""
    rates = ", ".join(f"{k} {v:.1f}" for k, v in e["rates_hz"].items())
    return (f"{e['mode']} {e['workload']} {e['engine']} batch {e['batch']}: "
            f"{_g(e['example_timesteps_per_s'])} example-timesteps/s, "
            f"{_g(e.get('synaptic_events_per_s'))} events/s; rates (Hz) {rates}")


def ratios(result: dict) -> list[dict]:
    """irsnn's C backend (or the fastest irsnn backend) over each peer, same entry."""
    out = []
    irsnn = {(e["mode"], e["workload"], e["batch"], e["engine"]): e
             for e in result["entries"] if e["kind"] == "irsnn"}
    for e in result["entries"]:
        if e["kind"] != "peer":
            continue
        for b in ("c", "opencl", "cuda"):
            mine = irsnn.get((e["mode"], e["workload"], e["batch"], b))
            if mine is None:
                continue
            out.append({"mode": e["mode"], "workload": e["workload"], "batch": e["batch"],
                        "irsnn": b, "peer": e["engine"],
                        "ratio": mine["example_timesteps_per_s"] / e["example_timesteps_per_s"],
                        "irsnn_example_timesteps_per_s": mine["example_timesteps_per_s"],
                        "peer_example_timesteps_per_s": e["example_timesteps_per_s"]})
    return out


def _header_lines(result: dict) -> list[str]:
    """Title, machine, load, triad, backends and GPU of the Markdown report."""
    m = result["machine"]
    lines = [f"# irsnn bench --size {result['size']}", "",
             f"Machine: {m.get('cpu')} ({m.get('cpus')} CPUs), {m.get('platform')}; Python "
             f"{m.get('python')}, NumPy {m.get('numpy')}, irsnn {m.get('irsnn')} "
             f"({m.get('git', '?')}), C compiler: {m.get('c_compiler')}; "
             f"OMP_NUM_THREADS={m.get('omp_num_threads')}, "
             f"OMP_WAIT_POLICY={m.get('omp_wait_policy')}; {m.get('date')}.",
             f"Load average at start {', '.join(f'{x:.1f}' for x in result['load_start'])}, at "
             f"end {', '.join(f'{x:.1f}' for x in result.get('load_end', ()))}.", ""]
    t = result["triad"]
    lines += [f"Triad ({t['source']}, GB/s): 1 thread {t['serial']['dram']:.1f} (DRAM), "
              f"{t['serial']['cache']:.1f} (cache); OpenMP {t['omp']['dram']:.1f} (DRAM), "
              f"{t['omp']['cache']:.1f} (cache).", ""]
    for b, info in result["backends"].items():
        lines.append(f"- backend `{b}`: device {info['device']}; {info['version']}")
    lines += ["", f"GPU: {result['gpu']}", ""]
    return lines


def _entry_lines(result: dict) -> list[str]:
    """The table of every entry (irsnn's and the peers')."""
    lines = ["| mode | workload | engine | batch | timesteps/s | example-timesteps/s | "
             "synaptic events/s | synapse updates/s | peak mem (MB) | % DRAM triad | "
             "hidden rates (Hz) | load |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for e in result["entries"]:
        rates = " / ".join(f"{v:.1f}" for k, v in e["rates_hz"].items() if k != "input")
        frac = e.get("fraction_of_triad")
        lines.append(
            f"| {e['mode']} | {e['workload']} | {e['engine']} | {e['batch']} | "
            f"{_g(e['timesteps_per_s'])} | {_g(e['example_timesteps_per_s'])} | "
            f"{_g(e.get('synaptic_events_per_s'))} | {_g(e.get('synapse_updates_per_s'))} | "
            f"{_g(e.get('peak_mem_mb'), '.0f')} | {'-' if frac is None else f'{100 * frac:.0f}'} "
            f"| {rates} | {e['load'][0]:.1f} |")
    return lines


def _section_lines(result: dict) -> list[str]:
    """Ratios, propagation, build time and skipped entries, each when there are any."""
    lines = []
    if result["ratios"]:
        lines += ["", "irsnn / peer, example-timesteps/s of the same entry:", "",
                  "| mode | workload | batch | irsnn backend | peer | ratio |",
                  "| --- | --- | ---: | --- | --- | ---: |"]
        for r in result["ratios"]:
            lines.append(f"| {r['mode']} | {r['workload']} | {r['batch']} | {r['irsnn']} | "
                         f"{r['peer']} | {r['ratio']:.2f}x |")
    if result["propagation"]:
        lines += ["", "Propagation (SpikeInput -> LeakyIntegrate, batch 1):", "",
                  "| engine | neurons | density | rate (Hz) | synaptic events/s | ns/event | "
                  "timesteps/s |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for p in result["propagation"]:
            lines.append(f"| {p['engine']} | {p['neurons']} | {p['density']:g} | "
                         f"{p['rate_hz']:g} | {_g(p['synaptic_events_per_s'])} | "
                         f"{_g(p['ns_per_event'])} | {_g(p['timesteps_per_s'])} |")
    if result["build"]:
        lines += ["", "Build time:", "", "| engine | workload | cold (s) | warm (s) |",
                  "| --- | --- | ---: | ---: |"]
        for b in result["build"]:
            lines.append(f"| {b['engine']} | {b['workload']} | {b['cold_s']:.3f} | "
                         f"{b['warm_s']:.3f} |")
    if result["skipped"]:
        lines += ["", "Skipped:", ""]
        lines += [f"- {s['engine']}: {s['reason']}" for s in result["skipped"]]
    return lines


def markdown(result: dict) -> str:
    """The Markdown report of ``result``: machine, triad, backends, the entries' table, ratios,
    propagation, build time, skipped entries, peers and how peak memory was measured."""
    lines = _header_lines(result) + _entry_lines(result) + _section_lines(result)
    peers_seen = {e["engine"]: e for e in result["entries"] if e["kind"] == "peer"}
    if peers_seen:
        lines += ["", "Peers:", ""]
        lines += [f"- {k}: {e.get('version')}, {e.get('device')}, {e.get('threads')} threads; "
                  f"{e.get('model')}" for k, e in peers_seen.items()]
    lines += ["", "Peak memory: " + ", ".join(sorted({e["mem_method"] for e in result["entries"]
                                                      if e.get("mem_method")})) + "."]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> bool:
    """Bar chart of example-timesteps/s (log scale, one panel per mode) to ``path``; False,
    writing nothing, when matplotlib is missing or there are no entries."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    modes = [m for m in ("inference", "training") if any(e["mode"] == m
                                                          for e in result["entries"])]
    if not modes:
        return False
    fig, axes = plt.subplots(len(modes), 1, figsize=(12, 4.5 * len(modes)), squeeze=False)
    for ax, mode in zip(axes[:, 0], modes):
        es = [e for e in result["entries"] if e["mode"] == mode]
        groups = list(dict.fromkeys(f"{e['workload']}\nbatch {e['batch']}" for e in es))
        engines = list(dict.fromkeys(e["engine"] for e in es))
        width = 0.8 / len(engines)
        for k, eng in enumerate(engines):
            vals = {f"{e['workload']}\nbatch {e['batch']}": e["example_timesteps_per_s"]
                    for e in es if e["engine"] == eng}
            xs = [i + k * width for i, g in enumerate(groups) if g in vals]
            ax.bar(xs, [vals[g] for g in groups if g in vals], width, label=eng)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(groups))])
        ax.set_xticklabels(groups, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("example-timesteps/s")
        ax.set_title(f"{mode} ({result['machine'].get('cpu')}, size {result['size']})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def write_outputs(result: dict, out: Path, log=_log) -> dict:
    """Write ``bench.json``, ``bench.md`` and (with matplotlib) ``bench.png`` to folder
    ``out``; returns ``{"json": path, "markdown": path[, "png": path]}``."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": str(out / "bench.json"), "markdown": str(out / "bench.md")}
    Path(files["json"]).write_text(json.dumps(result, indent=1, default=str))
    Path(files["markdown"]).write_text(markdown(result))
    png = out / "bench.png"
    if plot(result, png):
        files["png"] = str(png)
    else:
        log("matplotlib is not installed: no PNG chart (pip install matplotlib)")
    Path(files["json"]).write_text(json.dumps({**result, "files": files}, indent=1,
                                              default=str))
    return files
