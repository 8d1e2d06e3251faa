"""The ``irsnn`` command line and its subcommands.

Requires: argparse; the network, compilers, backends, printers, demo, train and bench
modules are imported by the subcommand that needs them. Provides :func:`main` (the ``irsnn``
entry point), :func:`build_parser`, one ``cmd_*`` function per subcommand, :func:`load_network`
(a network from a user script) and :data:`COMPILERS` (the compilers ``dump`` knows).

Subcommands: ``dump`` (inspect the IR), ``backends``, ``demo``, ``train``, ``bench``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from .errors import IrsnnError, ModelError

#: compilers ``irsnn dump --compiler`` can build, by name
COMPILERS = {"inference": "irsnn.compilers:InferenceCompiler",
             "eprop": "irsnn.compilers:EPropCompiler",
             "eventprop": "irsnn.compilers:EventPropCompiler"}


def load_network(spec: str):
    """``FILE.py:OBJECT`` -> the Network it names (OBJECT may be a function returning one)."""
    from .network import Network
    path, sep, obj_name = spec.rpartition(":")
    if not sep or not path:
        raise ModelError(f"'{spec}' is not FILE.py:OBJECT; e.g. model.py:network or "
                         f"model.py:build_network")
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"'{file}' does not exist; give the path of a Python file")
    module_spec = importlib.util.spec_from_file_location(f"_irsnn_dump_{file.stem}", file)
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(file.resolve().parent))
    try:
        module_spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    if not hasattr(module, obj_name):
        names = sorted(n for n in vars(module) if not n.startswith("_"))
        raise ModelError(f"'{file}' has no object '{obj_name}'; it defines {names}")
    obj = getattr(module, obj_name)
    if callable(obj) and not isinstance(obj, Network):
        obj = obj()
    if isinstance(obj, tuple):
        obj = next((o for o in obj if isinstance(o, Network)), obj)
    if not isinstance(obj, Network):
        raise ModelError(f"'{spec}' is a {type(obj).__name__}, not a Network (or a function "
                         f"returning one)")
    return obj


def _compiler(name, timesteps, batch_size, backend=None, **extra):
    module, _, cls = COMPILERS[name].partition(":")
    compiler_cls = getattr(importlib.import_module(module), cls)
    if name in ("eprop", "eventprop"):
        extra.setdefault("losses", "sparse_categorical_crossentropy")
    return compiler_cls(timesteps, batch_size=batch_size, backend=backend, **extra)


def _deep_r_options(args, network) -> dict:
    """``deep_r_conns``/``deep_r_l1_strength`` from ``--deep-r NAME`` (eprop only)."""
    if not args.deep_r:
        return {}
    if args.compiler != "eprop":
        raise ModelError("--deep-r rewires connections during e-prop training; add "
                         "--compiler eprop")
    by_name = {c.name: c for c in network.connections}
    unknown = [n for n in args.deep_r if n not in by_name]
    if unknown:
        raise ModelError(f"--deep-r names {unknown}, which are not connections of the network "
                         f"(connections: {sorted(by_name)})")
    return {"deep_r_conns": [by_name[n] for n in args.deep_r],
            "deep_r_l1_strength": args.deep_r_l1}


def cmd_dump(args) -> int:
    network = load_network(args.target)
    compiler = _compiler(args.compiler, args.timesteps, args.batch_size, args.backend,
                         **_deep_r_options(args, network))
    graph = compiler.build_ir(network, args.name, print_after_all=args.print_after_all,
                              print_after=args.print_after or (), dump_dir=args.dump_dir,
                              fmt=args.format, stream=sys.stdout)
    if args.emit_kernels:
        from irsnn.backends import load_backend
        if args.backend not in (None, *_backend_names()):
            raise ModelError(f"unknown backend {args.backend!r}; use one of "
                             f"{_backend_names()}")
        # Kernel source needs no device or compiler, only the backend's code generator
        files = load_backend(args.backend or "c").kernel_source(graph)
        out = Path(args.emit_kernels)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text)
            print(f"wrote {out / name}", file=sys.stderr)
            # the SIMT backends say which plan runs the model (backends.kernels.simt)
            for line in text.splitlines():
                if line.startswith("/* plan: "):
                    print(line[3:-3], file=sys.stderr)
        return 0
    if not (args.print_after_all or args.print_after):
        from .ir import printers
        sys.stdout.write({"text": printers.to_text, "json": printers.to_json,
                          "dot": printers.to_dot}[args.format](graph))
    return 0


def _backend_names():
    from irsnn.backends import backend_names
    return backend_names()


def cmd_backends(args) -> int:
    from irsnn.backends import available_backends, load_backend
    for name, (ok, why) in available_backends().items():
        if ok:
            devices = ", ".join(load_backend(name).devices()) or "-"
            print(f"{name:<10} available    {devices}")
        else:
            print(f"{name:<10} unavailable  {why}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    return run_demo(examples=args.examples, batch_size=args.batch_size)


def _bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on", "y"):
        return True
    if low in ("0", "false", "no", "off", "n"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean (use true or false)")


def cmd_train(args) -> int:
    from .train import TrainConfig, run_train
    cfg = TrainConfig(
        dataset=args.dataset, hidden_size=args.hidden_size,
        hidden_recurrent=args.hidden_recurrent, hidden_model=args.hidden_model,
        hidden_input_sparsity=args.hidden_input_sparsity,
        hidden_recurrent_sparsity=args.hidden_recurrent_sparsity,
        batch_size=args.batch_size, num_epochs=args.num_epochs,
        seed=args.seed, backend=args.backend, resume_epoch=args.resume_epoch, out=args.out,
        root=args.root, download=args.download, num_train=args.num_train,
        num_test=args.num_test, learning_rate=args.learning_rate, plots=not args.no_plots,
        mpi=args.mpi, compiler=args.compiler)
    run_train(cfg)
    return 0


def cmd_bench(args) -> int:
    from .bench import PEERS, SIZES, markdown, run_bench
    peers = PEERS if args.peers is None else tuple(p for p in args.peers if p != "none")
    bad = [p for p in peers if p not in PEERS]
    if bad:
        raise ModelError(f"unknown peer(s) {bad}; use some of {list(PEERS)} or none")
    if args.size not in SIZES:  # pragma: no cover - argparse checks choices
        raise ModelError(f"unknown size {args.size!r}")
    result = run_bench(args.size, backends=args.backends, peers=peers, out=args.out,
                       propagation=not args.no_propagation, build_time=not args.no_build_time)
    sys.stdout.write(markdown(result))
    for kind, path in result.get("files", {}).items():
        print(f"wrote {path} ({kind})", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="irsnn", description="irsnn: a graph-IR compiler for "
                                "spiking neural networks")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("dump", help="print the IR of a network after the compiler's passes")
    d.add_argument("target", help="FILE.py:OBJECT, OBJECT a Network or a function returning one")
    d.add_argument("--compiler", choices=sorted(COMPILERS), default="inference")
    g = d.add_mutually_exclusive_group()
    g.add_argument("--print-after-all", action="store_true", help="print the IR after every pass")
    g.add_argument("--print-after", action="append", metavar="NAME",
                   help="print the IR after pass NAME (repeatable)")
    d.add_argument("--format", choices=("text", "json", "dot"), default="text")
    d.add_argument("--dump-dir", help="write the IR after every pass into this folder")
    d.add_argument("--timesteps", type=int, default=100, help="example timesteps (default 100)")
    d.add_argument("--batch-size", type=int, default=1)
    d.add_argument("--name", default=None, help="model name in the dump")
    d.add_argument("--deep-r", action="append", metavar="CONNECTION",
                   help="with --compiler eprop: rewire this connection (by name) with Deep-R "
                        "(repeatable)")
    d.add_argument("--deep-r-l1", type=float, default=0.01,
                   help="Deep-R L1 strength (default 0.01)")
    d.add_argument("--backend", default=None,
                   help="backend whose kernels --emit-kernels writes (default: c)")
    d.add_argument("--emit-kernels", metavar="DIR",
                   help="write the generated kernel source of the backend into DIR")
    d.set_defaults(func=cmd_dump)

    b = sub.add_parser("backends", help="list backends, their devices and availability")
    b.set_defaults(func=cmd_backends)

    m = sub.add_parser("demo", help="run the mlGeNN paper's section-2 network on real data")
    m.add_argument("--examples", type=int, default=None,
                   help="test examples to evaluate (default: all 599)")
    m.add_argument("--batch-size", type=int, default=64)
    m.set_defaults(func=cmd_demo)

    from .train import DEFAULTS
    t = sub.add_parser("train", help="train a recurrent SNN with e-prop on event or spike data, "
                       "test it and plot (the mlGeNN paper's experiment)")
    t.add_argument("--dataset", choices=list(DEFAULTS), default="synthetic-gesture",
                   help="embedded: synthetic-gesture (default), digits, yin-yang; from disk "
                        "via tonic: dvs-gesture, shd (see --root)")
    t.add_argument("--hidden-size", type=int, nargs="+", metavar="N",
                   help="neurons per hidden layer, one value per layer (default per dataset)")
    t.add_argument("--hidden-recurrent", type=_bool, nargs="+", default=[True],
                   metavar="BOOL", help="recurrent hidden connections (one value or one per "
                   "layer; default true)")
    t.add_argument("--hidden-model", choices=("lif", "alif"), default=None,
                   help="hidden neuron model (default per dataset: alif for event data)")
    t.add_argument("--hidden-input-sparsity", type=float, nargs="+", default=[1.0],
                   metavar="P", help="fraction of input->hidden connections kept (1 = dense)")
    t.add_argument("--hidden-recurrent-sparsity", type=float, nargs="+", default=None,
                   metavar="P", help="fraction of recurrent connections kept (1 = dense)")
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--num-epochs", type=int, default=None)
    t.add_argument("--learning-rate", type=float, default=None,
                   help="Adam's alpha in the first epoch (default per dataset)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--compiler", choices=("eprop", "eventprop"), default="eprop",
                   help="training rule: e-prop (default) or EventProp (exact gradients, LIF "
                        "hidden layers with exponential synapses)")
    t.add_argument("--backend", default=None, help="backend (default: $IRSNN_BACKEND or c)")
    t.add_argument("--resume-epoch", type=int, default=None, metavar="EPOCH",
                   help="load checkpoint EPOCH from --out and continue after it")
    t.add_argument("--out", default="irsnn-train", metavar="DIR",
                   help="output folder (default ./irsnn-train)")
    t.add_argument("--root", default="data", metavar="DIR",
                   help="dataset folder for dvs-gesture and shd (default ./data)")
    t.add_argument("--download", action="store_true",
                   help="let tonic download dvs-gesture/shd into --root if missing")
    t.add_argument("--num-train", type=int, default=None, help="limit training examples")
    t.add_argument("--num-test", type=int, default=None, help="limit test examples")
    t.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    t.add_argument("--mpi", action=argparse.BooleanOptionalAction, default=None,
                   help="train data-parallel over the ranks of an MPI job (mpiexec -n N irsnn "
                        "train ...; default: on when started by mpiexec/srun with > 1 rank)")
    t.set_defaults(func=cmd_train)

    bn = sub.add_parser("bench", help="benchmark the backends (and Norse, snnTorch, Brian2 when "
                        "installed) and write one table: JSON, Markdown and a PNG chart")
    bn.add_argument("--size", choices=("tiny", "small", "paper"), default="small",
                    help="small: a few minutes on a 2-core CPU (default); paper: every "
                    "workload and batch size, more rounds; tiny: the smoke test's networks")
    bn.add_argument("--backends", nargs="+", metavar="NAME", default=None,
                    help="irsnn backends to run (default: every available one)")
    bn.add_argument("--peers", nargs="+", metavar="NAME", default=None,
                    help="peers to run: norse snntorch brian2 (default: all; each skipped with "
                    "a reason when not installed), or none")
    bn.add_argument("--out", default="irsnn-bench", metavar="DIR",
                    help="output folder for bench.json, bench.md, bench.png (default "
                    "./irsnn-bench)")
    bn.add_argument("--no-propagation", action="store_true",
                    help="skip the propagation microbenchmark")
    bn.add_argument("--no-build-time", action="store_true", help="skip the build-time runs")
    bn.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except IrsnnError as exc:
        print(f"irsnn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
