"""Run mlGeNN's example scripts and tutorial code cells on irsnn, unchanged but for the rename.

Requires: a copy of mlGeNN's source tree (``--mlgenn``, holding ``examples/`` and
``docs/tutorials/``), NumPy and scikit-learn (for the ``mnist`` stand-in), and tonic + h5py
for the SHD example (reported as blocked without them). Provides a command-line runner (not
part of the test suite) that, for each selected script:

1. copies it into ``--out`` (outside the checkout), replacing ``ml_genn`` with ``irsnn`` and
   removing the lines that import ``pygenn``; a tutorial notebook becomes one script of its
   code cells without IPython lines (``!pip``, ``%env``, the Colab set-up cell);
2. runs it with ``python`` in a folder where the offline stand-in data are found: a module
   ``mnist`` made from scikit-learn's digits on ``PYTHONPATH`` and a synthetic SHD in
   tonic's layout at ``../data`` of ``examples/eprop`` (:mod:`standin_data`), with
   ``MPLBACKEND=Agg``;
3. records whether it finished, its run time, and the accuracies it printed (an
   ``Accuracy = ...`` line or the progress bar's last ``SparseCategoricalAccuracy``/
   ``accuracy`` value; the first and last ``Total MSE`` of the pattern-recognition example),
   in ``<out>/results.json`` and a Markdown table on stdout.

The two MPI examples run under ``mpiexec -n 2`` and keep their ``pygenn`` imports, which a
stand-in ``pygenn`` package (option values only) satisfies: they run with only the rename.
Scripts that need convolutions or TensorFlow are listed as excluded with the reason. Usage::

    python benchmarks/compat/run_mlgenn_examples.py --mlgenn /work/mlgenn --out /tmp/compat
    python benchmarks/compat/run_mlgenn_examples.py --only simple_mnist tutorial_1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import standin_data  # noqa: E402

#: script name -> path inside the mlGeNN tree (examples) or tutorial notebook
SCRIPTS = {
    "simple_mnist": "examples/simple_mnist.py",
    "eprop/latency_mnist": "examples/eprop/latency_mnist.py",
    "eprop/latency_mnist_deep_r": "examples/eprop/latency_mnist_deep_r.py",
    "eprop/pattern_recognition": "examples/eprop/pattern_recognition.py",
    "eprop/shd_classifier": "examples/eprop/shd_classifier.py",
    "eprop/shd_classifier_mpi": "examples/eprop/shd_classifier_mpi.py",
    "event_prop/latency_mnist_mpi": "examples/event_prop/latency_mnist_mpi.py",
    "event_prop/latency_mnist": "examples/event_prop/latency_mnist.py",
    "event_prop/latency_mnist_augment": "examples/event_prop/latency_mnist_augment.py",
    "event_prop/pattern_recognition": "examples/event_prop/pattern_recognition.py",
    "event_prop/shd": "examples/event_prop/shd.py",
    "event_prop/shd_augment": "examples/event_prop/shd_augment.py",
    "event_prop/shd_delay_shift_blend": "examples/event_prop/shd_delay_shift_blend.py",
    "event_prop/yin_yang": "examples/event_prop/yin_yang.py",
    "tutorial_1": "docs/tutorials/tutorial_1.ipynb",
    "tutorial_2": "docs/tutorials/tutorial_2.ipynb",
    "tutorial_3": "docs/tutorials/tutorial_3.ipynb",
    "tutorial_4": "docs/tutorials/tutorial_4.ipynb",
}

#: scripts not run, and why
EXCLUDED = {
    "event_prop/latency_mnist_conv": "convolutions (a later issue)",
    "tf/*": "TensorFlow converter",
}

#: scripts started with ``mpiexec -n RANKS`` (the mpich wheel of ``irsnn[mpi]``); they keep
#: their ``pygenn`` imports (the ``pygenn`` stand-in provides the option values they import), so
#: they run with only the rename
MPI_RANKS = {"eprop/shd_classifier_mpi": 2, "event_prop/latency_mnist_mpi": 2}

_CHANCE = {"eprop/shd_classifier_mpi": 0.05, "event_prop/latency_mnist_mpi": 0.1,
           "simple_mnist": 0.1, "eprop/latency_mnist": 0.1, "eprop/latency_mnist_deep_r": 0.1,
           "eprop/shd_classifier": 0.05, "tutorial_1": 0.1, "tutorial_2": 0.1,
           "event_prop/latency_mnist": 0.1, "event_prop/latency_mnist_augment": 0.1,
           "event_prop/shd": 0.05, "event_prop/shd_augment": 0.05,
           "event_prop/shd_delay_shift_blend": 0.05, "event_prop/yin_yang": 1 / 3,
           "tutorial_3": 0.1, "tutorial_4": 0.1}

_IPYTHON = re.compile(r"^\s*[!%]|get_ipython\(")


def _rename(text: str, keep_pygenn: bool = False) -> str:
    lines = [ln for ln in text.splitlines() if keep_pygenn
             or not re.match(r"\s*(from\s+pygenn\b|import\s+pygenn\b)", ln)]
    return "\n".join(lines).replace("ml_genn", "irsnn") + "\n"


def _notebook_source(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    out = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        if "google.colab" in src:
            continue
        out.append("\n".join(ln for ln in src.splitlines() if not _IPYTHON.search(ln)))
    return "\n\n".join(out)


def prepare(mlgenn: Path, out: Path, names, num_train: int, shd_sizes) -> dict:
    """Write the renamed scripts and the stand-in data under ``out``; name -> script path."""
    standin_data.write_mnist_module(out / "standin", num_train=num_train)
    standin_data.write_pygenn_standin(out / "standin")
    shd_note = None
    try:
        # the SHD example reads ``../data`` from its folder (examples/eprop)
        standin_data.write_shd(out / "examples" / "data", *shd_sizes)
    except ImportError as exc:
        shd_note = f"no SHD stand-in: {exc}"
    scripts = {}
    for name in names:
        src = mlgenn / SCRIPTS[name]
        text = _notebook_source(src) if src.suffix == ".ipynb" else src.read_text()
        folder = out / "examples" / Path(name).parent
        folder.mkdir(parents=True, exist_ok=True)
        for npy in (mlgenn / "examples").glob("weights_*.npy"):
            shutil.copy(npy, folder / npy.name)
        dest = folder / f"{Path(name).name}.py"
        dest.write_text(_rename(text, keep_pygenn=name in MPI_RANKS))
        scripts[name] = dest
    return scripts, shd_note


def _accuracies(output: str) -> list[float]:
    accs = [float(m) / 100.0 for m in re.findall(r"Accuracy\s*=\s*([0-9.]+)\s*%", output)]
    accs += [float(m) for m in re.findall(
        r"(?:SparseCategoricalAccuracy|accuracy|object at 0x[0-9a-f]+>)[:=]\s*([0-9.]+)",
        output)]
    return accs


def run(name: str, script: Path, out: Path, timeout: float, env_extra: dict) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", **env_extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(out / "standin"),
                                                      env.get("PYTHONPATH")]))
    start = time.perf_counter()
    try:
        cmd = [sys.executable, script.name]
        if name in MPI_RANKS:
            mpiexec = Path(sys.executable).parent / "mpiexec"
            cmd = [str(mpiexec if mpiexec.exists() else "mpiexec"), "-n",
                   str(MPI_RANKS[name])] + cmd
        proc = subprocess.run(cmd, cwd=script.parent, env=env,
                              capture_output=True, text=True, timeout=timeout)
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = "timeout"
        output = ((exc.stdout or b"").decode() if isinstance(exc.stdout, bytes)
                  else (exc.stdout or "")) + ((exc.stderr or b"").decode()
                                              if isinstance(exc.stderr, bytes)
                                              else (exc.stderr or ""))
    seconds = time.perf_counter() - start
    (out / "logs").mkdir(exist_ok=True)
    (out / "logs" / f"{name.replace('/', '__')}.log").write_text(output)
    accs = _accuracies(output)
    error = ""
    if rc != 0:
        tb = [ln for ln in output.strip().splitlines() if ln.strip()]
        error = tb[-1] if tb else ""
    chance = _CHANCE.get(name)
    mse = [float(m) for m in re.findall(r"Total MSE:\s*([-0-9.eE+]+)", output)]
    return {"name": name, "rc": rc, "seconds": round(seconds, 1),
            "mse_first_last": (mse[0], mse[-1]) if mse else None,
            "accuracy": accs[-1] if accs else None, "chance": chance,
            "above_chance": (None if not accs or chance is None else accs[-1] > 1.5 * chance),
            "error": error[-300:]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mlgenn", default="/work/mlgenn", type=Path,
                    help="mlGeNN source tree (with examples/ and docs/tutorials/)")
    ap.add_argument("--out", default="/work/compat_run", type=Path,
                    help="where the renamed scripts, data and logs go (outside the checkout)")
    ap.add_argument("--only", nargs="*", default=None, help="script names to run")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per script")
    ap.add_argument("--num-train", type=int, default=1400,
                    help="digits used as MNIST training images (the rest are test images)")
    ap.add_argument("--shd", type=int, nargs=2, default=(100, 100),
                    help="synthetic SHD training and test examples")
    ap.add_argument("--backend", default=None, help="IRSNN_BACKEND for the scripts")
    args = ap.parse_args(argv)
    names = args.only or list(SCRIPTS)
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        ap.error(f"unknown scripts {unknown}; known: {list(SCRIPTS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    scripts, shd_note = prepare(args.mlgenn, args.out, names, args.num_train, args.shd)
    env = {"IRSNN_BACKEND": args.backend} if args.backend else {}
    results = []
    for name in names:
        r = run(name, scripts[name], args.out, args.timeout, env)
        if name.startswith("eprop/shd_classifier") and shd_note:
            r["note"] = shd_note
        results.append(r)
        print(f"{name}: rc={r['rc']} {r['seconds']}s accuracy={r['accuracy']} "
              f"{r['error']}", flush=True)
    results += [{"name": n, "excluded": why} for n, why in EXCLUDED.items()]
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print("\n| script | runs | time (s) | accuracy (chance) | note |\n|---|---|---|---|---|")
    for r in results:
        if "excluded" in r:
            print(f"| {r['name']} | excluded | | | needs {r['excluded']} |")
            continue
        acc = "" if r["accuracy"] is None else f"{r['accuracy']:.3f} ({r['chance']})"
        if r.get("mse_first_last"):
            acc = "MSE {:.3g} -> {:.3g}".format(*r["mse_first_last"])
        print(f"| {r['name']} | {'yes' if r['rc'] == 0 else r['rc']} | {r['seconds']} | "
              f"{acc} | {r['error'] or r.get('note', '')} |")


if __name__ == "__main__":
    main()
