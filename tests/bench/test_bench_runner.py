"""Smoke test of the ``irsnn bench`` runner on the tiny size (no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from irsnn.backends import available_backends
from irsnn.bench import PEERS, markdown, run_bench, write_outputs
from irsnn.cli import main

FAST = [b for b in ("reference", "c") if available_backends()[b][0]]


def test_bench_tiny_cli(tmp_path, capsys, monkeypatch):
    # no peers folder: every peer is skipped with its reason, the run goes on
    monkeypatch.setenv("IRSNN_BENCH_PEERS", str(tmp_path / "no-peers"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main(["bench", "--size", "tiny", "--backends", *FAST, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| mode | workload | engine |" in text and "Skipped:" in text
    res = json.loads((out / "bench.json").read_text())
    assert (out / "bench.md").read_text() == text
    assert res["size"] == "tiny" and res["machine"]["cpus"] >= 1
    assert "serial" in res["triad"] and res["triad"]["omp"]["dram"] > 0
    modes = {(e["engine"], e["mode"]) for e in res["entries"]}
    for b in FAST:
        assert (b, "inference") in modes and (b, "training") in modes
    for e in res["entries"]:
        assert e["example_timesteps_per_s"] > 0 and e["synaptic_events_per_s"] > 0
        assert e["device"] and e["versions"]["irsnn"] and e["machine"]["cpus"]
        assert e["rates_hz"]["hidden"] >= 0 and e["peak_mem_mb"] >= 0
        if e["mode"] == "training":
            assert e["synapse_updates_per_s"] > 0 and e["fraction_of_triad"] > 0
    assert {p["engine"] for p in res["propagation"]} == set(FAST)
    assert {b["engine"] for b in res["build"]} == set(FAST)
    assert {s["engine"] for s in res["skipped"]} >= set(PEERS)
    assert res["gpu"]
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "bench.png").stat().st_size > 0


def test_no_matplotlib_skips_png(tmp_path, monkeypatch, capsys):
    res = run_bench("tiny", backends=["reference"], peers=(), propagation=False,
                    build_time=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    msgs = []
    files = write_outputs(res, tmp_path, log=msgs.append)
    assert "png" not in files and not (tmp_path / "bench.png").exists()
    assert any("matplotlib" in m for m in msgs)
    assert "reference" in markdown(res)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_torch_peers_tiny(tmp_path):
    """When Norse / snnTorch are installed, they run the same tiny network (else skipped)."""
    res = run_bench("tiny", backends=["reference"], peers=("norse", "snntorch"),
                    propagation=False, build_time=False)
    ran = {e["engine"] for e in res["entries"] if e["kind"] == "peer"}
    skipped = {s["engine"] for s in res["skipped"]}
    assert ran | skipped == {"norse", "snntorch"}
    for e in res["entries"]:
        if e["kind"] == "peer":
            assert e["example_timesteps_per_s"] > 0 and "hidden" in e["rates_hz"]
