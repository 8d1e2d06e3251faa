"""``irsnn train``: the mlGeNN paper's experiment as a command.

Requires: the datasets, the front end, the compilers, the IR printers and serialisers
(imported when run); matplotlib for plots. Provides :class:`TrainConfig` (with
:data:`DEFAULTS`), :func:`run_train` (what ``irsnn train`` runs) and its steps
:func:`load_data`, :func:`build_network` and :func:`write_plots`.

Load a dataset as spike trains (an embedded one by default, or DVS Gesture / SHD from disk
through tonic), build ``SpikeInput -> recurrent (A)LIF hidden layer(s) -> LeakyIntegrate
(sum_var)``, train it with e-prop (:class:`~irsnn.compilers.EPropCompiler`), checkpoint every
epoch, test the last checkpoint with :class:`~irsnn.compilers.InferenceCompiler`, and write
logs, checkpoints, the IR and plots to ``--out``.
"""

from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import settings
from .errors import InputError, ModelError
from .utils.atomic import atomic_write

#: per-dataset defaults (anything given on the command line wins). ``lr``: Adam's alpha,
#: multiplied by ``lr_decay`` every epoch; ``tail_steps``: timesteps after the latest input
#: spike. The digits settings are those the e-prop tests found (tests/eprop/test_learning.py).
DEFAULTS = {
    "synthetic-gesture": dict(hidden_size=[128], hidden_model="alif", num_epochs=8,
                              batch_size=8, lr=0.003, lr_decay=0.9, tail_steps=0,
                              load=dict(num_train=330, num_test=110)),
    "dvs-gesture": dict(hidden_size=[256], hidden_model="alif", num_epochs=50, batch_size=32,
                        lr=0.001, lr_decay=1.0, tail_steps=0, load={}),
    "shd": dict(hidden_size=[256], hidden_model="alif", num_epochs=50, batch_size=128,
                lr=0.001, lr_decay=1.0, tail_steps=0, load={}),
    # a sparse (10%) recurrent connection starting at zero and a 10 ms hidden membrane:
    # 96.4-97.5% test accuracy over seeds (dense recurrence at fan-in scale overfits)
    "digits": dict(hidden_size=[128], hidden_model="lif", num_epochs=20, batch_size=32,
                   lr=0.01, lr_decay=0.85, tail_steps=0, output_bias=False,
                   hidden_recurrent_sparsity=[0.1], recurrent_scale=0.0, tau_mem=10.0,
                   load=dict(max_time=19.0)),
    "yin-yang": dict(hidden_size=[64], hidden_model="lif", num_epochs=20, batch_size=32,
                     lr=0.01, lr_decay=0.85, tail_steps=10, load={}),
}

#: ``--compiler eventprop``: initial weights are this many times e-prop's (exponential
#: synapses move ``V`` by about ``TauSyn / TauM`` of a weight per spike, delta synapses by all)
EVENTPROP_WEIGHT_SCALE = 4.0


@dataclass
class TrainConfig:
    """Everything ``irsnn train`` needs; the CLI fills it from its flags. ``None`` means the
    dataset's default from :data:`DEFAULTS`."""

    dataset: str = "synthetic-gesture"
    hidden_size: list | None = None
    hidden_recurrent: list = field(default_factory=lambda: [True])
    hidden_model: str | None = None
    hidden_input_sparsity: list = field(default_factory=lambda: [1.0])
    hidden_recurrent_sparsity: list | None = None
    batch_size: int | None = None
    num_epochs: int | None = None
    seed: int = 0
    backend: str | None = None
    resume_epoch: int | None = None
    out: str = "irsnn-train"
    root: str = "data"
    download: bool = False
    num_train: int | None = None
    num_test: int | None = None
    learning_rate: float | None = None
    lr_decay: float | None = None
    plots: bool = True
    #: data-parallel over MPI ranks; None: when started by mpiexec/srun with several ranks
    mpi: bool | None = None
    #: ``"eprop"`` (EPropCompiler) or ``"eventprop"`` (EventPropCompiler: LIF hidden layers
    #: with exponential synapses, mlGeNN's EventProp defaults, no output bias)
    compiler: str = "eprop"

    def __post_init__(self):
        if self.dataset in DEFAULTS:
            d = DEFAULTS[self.dataset]
            for name, key in (("hidden_size", "hidden_size"), ("hidden_model", "hidden_model"),
                              ("batch_size", "batch_size"), ("num_epochs", "num_epochs"),
                              ("learning_rate", "lr"), ("lr_decay", "lr_decay")):
                if getattr(self, name) is None:
                    setattr(self, name, d[key])
            if self.hidden_recurrent_sparsity is None:
                self.hidden_recurrent_sparsity = list(d.get("hidden_recurrent_sparsity",
                                                            [1.0]))

    def per_layer(self, name):
        """``name``'s values expanded to one per hidden layer."""
        values = list(getattr(self, name))
        layers = len(self.hidden_size)
        if len(values) == 1:
            return values * layers
        if len(values) != layers:
            raise ModelError(f"--{name.replace('_', '-')} has {len(values)} values for "
                             f"{layers} hidden layers; give one value or one per layer")
        return values

    def check(self):
        if self.dataset not in DEFAULTS:
            raise InputError(f"unknown dataset {self.dataset!r}; choose from {sorted(DEFAULTS)}")
        if not self.hidden_size or min(self.hidden_size) < 1:
            raise ModelError(f"--hidden-size {self.hidden_size} must be positive integers")
        if self.hidden_model not in ("lif", "alif"):
            raise ModelError(f"--hidden-model {self.hidden_model!r}: use lif or alif")
        if self.compiler not in ("eprop", "eventprop"):
            raise ModelError(f"--compiler {self.compiler!r}: use eprop or eventprop")
        if self.compiler == "eventprop" and self.hidden_model != "lif":
            raise ModelError(f"--compiler eventprop trains LIF hidden layers; --hidden-model "
                             f"{self.hidden_model!r} is not supported, use --hidden-model lif")
        for name in ("hidden_input_sparsity", "hidden_recurrent_sparsity"):
            for v in self.per_layer(name):
                if not 0.0 < v <= 1.0:
                    raise ModelError(f"--{name.replace('_', '-')} {v}: the fraction of "
                                     f"connections kept must be in (0, 1]")
        self.per_layer("hidden_recurrent")
        if self.batch_size < 1 or self.num_epochs < 0:
            raise ModelError(f"--batch-size {self.batch_size} must be >= 1 and --num-epochs "
                             f"{self.num_epochs} >= 0")


def load_data(cfg: TrainConfig):
    """The configured dataset as a :class:`~irsnn.datasets.SpikeDataset`."""
    from . import datasets
    kwargs = dict(DEFAULTS[cfg.dataset]["load"])
    if cfg.dataset == "synthetic-gesture":
        kwargs.update(seed=cfg.seed, progress=True)
        if cfg.num_train:
            kwargs["num_train"] = cfg.num_train
        if cfg.num_test:
            kwargs["num_test"] = cfg.num_test
        return datasets.load_synthetic_gesture(**kwargs)
    if cfg.dataset in ("dvs-gesture", "shd"):
        loader = datasets.DATASETS[cfg.dataset]
        return loader(cfg.root, download=cfg.download, max_train=cfg.num_train,
                      max_test=cfg.num_test)
    data = datasets.DATASETS[cfg.dataset](**kwargs)
    return data.subset(cfg.num_train, cfg.num_test)


def build_network(cfg: TrainConfig, data, max_spikes: int):
    """``SpikeInput -> hidden layer(s) -> LeakyIntegrate(sum_var)``; returns
    ``(network, input, hidden list, output)``."""
    from . import Connection, Network, Population
    from .connectivity import Dense, FixedProbability
    from .initializers import Normal
    from .neurons import AdaptiveLeakyIntegrateFire, LeakyIntegrate, LeakyIntegrateFire, SpikeInput

    def conn(p, sd):
        return Dense(Normal(sd=sd)) if p >= 1.0 else FixedProbability(p, Normal(sd=sd / np.sqrt(p)))

    defaults = DEFAULTS[cfg.dataset]
    tau_mem = defaults.get("tau_mem", 20.0)
    rec_scale = defaults.get("recurrent_scale", 1.0)
    eventprop = cfg.compiler == "eventprop"
    if eventprop:
        # mlGeNN's EventProp models: exponential synapses, absolute reset, scaled inputs; a
        # spike moves V by about TauSyn/TauM of its weight, so the weights are larger
        from .compilers.event_prop_compiler import default_params
        from .synapses import Exponential
        base = conn

        def conn(p, sd):
            return base(p, sd * EVENTPROP_WEIGHT_SCALE)

    network = Network(default_params if eventprop else None)
    with network:
        # created inside the network so that its default_params apply
        synapse = Exponential(5.0) if eventprop else "delta"
        inp = Population(SpikeInput(max_spikes=max_spikes), data.num_inputs, name="input")
        hidden, prev, n_prev = [], inp, data.num_inputs
        for i, (n, rec, p_in, p_rec) in enumerate(zip(
                cfg.hidden_size, cfg.per_layer("hidden_recurrent"),
                cfg.per_layer("hidden_input_sparsity"),
                cfg.per_layer("hidden_recurrent_sparsity"))):
            if cfg.hidden_model == "alif":
                neuron = AdaptiveLeakyIntegrateFire(v_thresh=0.6, tau_refrac=5.0,
                                                    tau_mem=tau_mem, tau_adapt=2000.0)
            elif eventprop:
                neuron = LeakyIntegrateFire(v_thresh=1.0, tau_mem=tau_mem)
            else:
                neuron = LeakyIntegrateFire(v_thresh=0.6, tau_refrac=5.0, tau_mem=tau_mem)
            pop = Population(neuron, n, name=f"hidden{i}")
            Connection(prev, pop, conn(p_in, 1.0 / np.sqrt(n_prev)), synapse,
                       name=f"{prev.name}_{pop.name}")
            if rec:
                Connection(pop, pop, conn(p_rec, rec_scale / np.sqrt(n)), synapse,
                           name=f"{pop.name}_rec")
            hidden.append(pop)
            prev, n_prev = pop, n
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), data.num_classes,
                         name="output")
        Connection(prev, out, Dense(Normal(sd=1.0 / np.sqrt(n_prev))), synapse,
                   name=f"{prev.name}_output")
    return network, inp, hidden, out


def _write_csv(path: Path, rows: list[dict]):
    with atomic_write(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [{k: int(v) if k == "epoch" else float(v) for k, v in r.items()}
                for r in csv.DictReader(f)]


def run_train(cfg: TrainConfig) -> dict:
    """Train, test and write the outputs; returns a summary dict (also ``summary.json``).

    Under MPI (``cfg.mpi``, or started by mpiexec/srun with several ranks) every rank trains on
    its strided shard of each epoch's shuffled examples with ``batch_size / ranks`` examples
    per step (the gradients are summed over ranks), test accuracy per epoch is summed over the
    ranks' shards of the test set, and rank 0 alone prints, writes the outputs and runs the
    final test; the other ranks return ``{"rank": r}``.
    """
    import contextlib
    import io

    from .communicators import launched_by_mpi
    comm = None
    if cfg.mpi or (cfg.mpi is None and launched_by_mpi()):
        from .communicators import MPI
        comm = MPI()
    if comm is not None and comm.rank != 0:   # rank 0 speaks for the job (errors still show)
        settings.quiet_progress_bars()
        with contextlib.redirect_stdout(io.StringIO()):
            return _run_train(cfg, comm)
    return _run_train(cfg, comm)


def _run_train(cfg: TrainConfig, comm) -> dict:
    import json

    from .callbacks import Checkpoint, OptimiserParamSchedule, SpikeRecorder, VarRecorder
    from .compilers import EPropCompiler, EventPropCompiler, InferenceCompiler
    from .ir import printers
    from .optimisers import Adam
    from .serialisers import Numpy

    cfg.check()
    out = Path(cfg.out)
    if cfg.resume_epoch is not None:
        # before anything else: a missing folder or epoch is reported at once
        Numpy(str(out / "checkpoints")).check_keys((cfg.resume_epoch,))
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    print(f"irsnn train: dataset {cfg.dataset}", flush=True)
    data = load_data(cfg)
    t_data = time.perf_counter() - t_start
    # static data: a few steps after the last input spike to integrate it
    steps = data.example_timesteps + DEFAULTS[cfg.dataset].get("tail_steps", 0)
    print(f"  {len(data.train_y)} training / {len(data.test_y)} test examples, "
          f"{data.num_inputs} inputs {data.input_shape}, {data.num_classes} classes, "
          f"{steps} timesteps of {data.ms_per_step:g} ms (prepared in {t_data:.1f} s)",
          flush=True)
    network, inp, hidden, outp = build_network(cfg, data, cfg.batch_size * data.max_spikes)
    ckpt = Numpy(str(out / "checkpoints"))
    start_epoch = 0
    log_rows = []
    if cfg.resume_epoch is not None:
        start_epoch = cfg.resume_epoch + 1
        log_rows = [r for r in _read_csv(out / "train_log.csv") if r["epoch"] <= cfg.resume_epoch]

    if cfg.compiler == "eventprop":
        compiler = EventPropCompiler(example_timesteps=steps,
                                     losses="sparse_categorical_crossentropy",
                                     optimiser=Adam(cfg.learning_rate),
                                     batch_size=cfg.batch_size, rng_seed=cfg.seed,
                                     backend=cfg.backend, max_spikes=steps,
                                     communicator=comm)
    else:
        compiler = EPropCompiler(
            example_timesteps=steps, losses="sparse_categorical_crossentropy",
            optimiser=Adam(cfg.learning_rate), batch_size=cfg.batch_size, rng_seed=cfg.seed,
            backend=cfg.backend, reset_vars_between_examples=True, communicator=comm,
            train_output_bias=DEFAULTS[cfg.dataset].get("output_bias", True))
    compiled = compiler.compile(network, "train")
    root = comm is None or comm.rank == 0
    rank, ranks = (0, 1) if comm is None else (comm.rank, comm.num_ranks)
    if root:
        (out / "model_ir.txt").write_text(printers.to_text(compiled.ir))
    # each rank evaluates its strided shard of the test set (the metric sums the shards)
    test_x = [data.test_x[i] for i in range(rank, len(data.test_y), ranks)]
    test_y = data.test_y[rank::ranks]
    rng = np.random.default_rng([cfg.seed, 1])
    # train() is called once per epoch (to test after each), so shuffling is done here:
    # train(shuffle=True) would draw the same permutation on every call
    schedule = OptimiserParamSchedule(
        "alpha", lambda epoch, _: cfg.learning_rate * cfg.lr_decay ** epoch)
    train_x, train_y = data.train_x, data.train_y
    t_train = time.perf_counter()
    with compiled:
        backend = compiled.backend.name
        if cfg.resume_epoch is not None:
            # weights, output bias, optimiser state and step, simulation state: every array
            # must be in the checkpoint, and training continues exactly where it stopped
            compiled.resume((cfg.resume_epoch,), ckpt)
            print(f"  resumed from checkpoint epoch {cfg.resume_epoch}", flush=True)
        for _ in range(start_epoch):  # the same shuffles as an uninterrupted run
            rng.permutation(len(train_y))
        for epoch in range(start_epoch, start_epoch + cfg.num_epochs):
            order = rng.permutation(len(train_y))[rank::ranks]
            t0 = time.perf_counter()
            m, _ = compiled.train({inp: [train_x[i] for i in order]}, {outp: train_y[order]},
                                  num_epochs=1, start_epoch=epoch, shuffle=False,
                                  callbacks=["batch_progress_bar", Checkpoint(ckpt), schedule])
            t1 = time.perf_counter()
            mt, _ = compiled.evaluate({inp: test_x}, {outp: test_y}, callbacks=[])
            log_rows.append({"epoch": epoch, "train_accuracy": m[outp].result,
                             "test_accuracy": mt[outp].result, "train_seconds": t1 - t0})
            print(f"  epoch {epoch:3d}  train {m[outp].result:.4f}  test "
                  f"{mt[outp].result:.4f}  ({t1 - t0:.1f} s)", flush=True)
            if root:
                _write_csv(out / "train_log.csv", log_rows)
    t_train = time.perf_counter() - t_train
    if comm is not None:   # rank 0 tests the last checkpoint alone
        comm.barrier()
        if not root:
            return {"rank": rank}
    last = start_epoch + cfg.num_epochs - 1
    if last < 0:
        raise InputError("--num-epochs 0 without --resume-epoch: there is nothing to test")

    # test the last checkpoint with the inference compiler
    network.load((last,), ckpt)
    # exponential synapses (EventProp) keep input in inSyn: start every batch without it, as
    # EventProp's training and evaluation do
    inference = InferenceCompiler(evaluate_timesteps=steps, batch_size=cfg.batch_size,
                                  rng_seed=cfg.seed, backend=cfg.backend,
                                  reset_in_syn_between_batches=cfg.compiler == "eventprop")
    t0 = time.perf_counter()
    with inference.compile(network, "test") as net:
        recorders = [SpikeRecorder(inp, key="input", example_filter=0),
                     VarRecorder(outp, "v", key="output_v", example_filter=0)]
        recorders += [SpikeRecorder(h, key=h.name, example_filter=0) for h in hidden]
        preds, cb = net.predict({inp: data.test_x}, outp,
                                callbacks=["batch_progress_bar"] + recorders)
    t_test = time.perf_counter() - t0
    y_pred = np.argmax(np.asarray(preds[outp]).reshape(len(data.test_y), -1), axis=1)
    accuracy = float(np.mean(y_pred == data.test_y))
    confusion = np.zeros((data.num_classes, data.num_classes), np.int64)
    np.add.at(confusion, (data.test_y, y_pred), 1)
    _write_csv(out / "test_log.csv", [{"epoch": last, "test_accuracy": accuracy,
                                       "correct": int(confusion.trace()),
                                       "total": len(y_pred), "seconds": t_test}])
    np.savetxt(out / "confusion.csv", confusion, fmt="%d", delimiter=",")
    summary = {"dataset": cfg.dataset, "test_accuracy": accuracy, "epochs": last + 1,
               "backend": backend, "train_examples": len(data.train_y),
               "test_examples": len(data.test_y), "timesteps": steps,
               "seconds_data": t_data, "seconds_train": t_train, "seconds_test": t_test,
               "seconds_total": time.perf_counter() - t_start, "config": asdict(cfg)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"  test accuracy {accuracy:.4f} ({confusion.trace()}/{len(y_pred)}) with "
          f"InferenceCompiler, checkpoint epoch {last}, backend '{backend}'")
    if cfg.plots:
        write_plots(out, log_rows, cb, hidden, data, confusion, accuracy,
                    rule="EventProp" if cfg.compiler == "eventprop" else "e-prop")
    print(f"  wrote {out}/ (train_log.csv, test_log.csv, checkpoints/, model_ir.txt, "
          f"summary.json{', *.png' if cfg.plots else ''}) in {summary['seconds_total']:.1f} s")
    return summary


def write_plots(out: Path, log_rows, cb, hidden, data, confusion, accuracy,
                rule: str = "e-prop") -> list[Path]:
    """learning_curves.png, raster.png (test example 0: input and hidden spikes, output
    voltages) and confusion.png; skipped with a message when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  plots skipped: matplotlib is not installed (pip install \"irsnn[data]\")")
        return []
    written = []
    if log_rows:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        epochs = [r["epoch"] for r in log_rows]
        ax.plot(epochs, [r["train_accuracy"] for r in log_rows], "o-", label=f"train ({rule})")
        ax.plot(epochs, [r["test_accuracy"] for r in log_rows], "s-", label="test")
        ax.axhline(1.0 / data.num_classes, color="grey", ls=":", label="chance")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{data.name}: learning curves")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(out / "learning_curves.png", dpi=100)
        plt.close(fig)
        written.append(out / "learning_curves.png")

    label = int(data.test_y[0])
    rows = 2 + len(hidden)
    fig, axes = plt.subplots(rows, 1, figsize=(7, 2.0 * rows + 0.5), sharex=True)
    panels = [("input", f"input ({data.num_inputs})", data.num_inputs)]
    panels += [(h.name, f"{h.name} ({int(np.prod(h.shape))})", int(np.prod(h.shape)))
               for h in hidden]
    for ax, (key, title, n) in zip(axes, panels):
        times, ids = cb[key][0][0], cb[key][1][0]
        ax.scatter(np.asarray(times) * data.ms_per_step, ids, s=1, c="k", marker="|")
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_ylabel("neuron")
        ax.set_title(f"{title}: {len(ids)} spikes", fontsize=9, loc="left")
    v = np.asarray(cb["output_v"][0])
    t = np.arange(len(v)) * data.ms_per_step
    ax = axes[-1]
    for k in range(v.shape[1]):
        ax.plot(t, v[:, k], lw=2.0 if k == label else 0.8,
                color="C3" if k == label else "0.6",
                label=f"true class {data.classes[label]}" if k == label else None)
    ax.set_ylabel("V")
    ax.set_xlabel("time (ms)")
    ax.set_title(f"output ({data.num_classes} LI neurons, sum_var readout)", fontsize=9,
                 loc="left")
    ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"{data.name}: test example 0 (class {data.classes[label]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "raster.png", dpi=100)
    plt.close(fig)
    written.append(out / "raster.png")

    k = data.num_classes
    fig, ax = plt.subplots(figsize=(1.2 + 0.45 * k, 1.0 + 0.45 * k))
    ax.imshow(confusion, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if confusion[i, j]:
                ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if confusion[i, j] > confusion.max() / 2 else "black")
    names = [c if len(c) <= 14 else c[:13] + "." for c in data.classes]
    ax.set_xticks(range(k), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{data.name}: test accuracy {accuracy:.3f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=100)
    plt.close(fig)
    written.append(out / "confusion.png")
    return written
