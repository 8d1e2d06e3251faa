"""Run passes in order, verifying the IR after each and printing or dumping it on request.

Requires: an :class:`~irsnn.ir.IRGraph`, its printers and ``verify``, :mod:`irsnn.settings`
and :class:`~.base.PassContext`. Provides :class:`Pipeline`: run passes in order with
verification, ``--print-after-all`` / ``--print-after`` and ``--dump-dir``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from irsnn import settings
from irsnn.errors import IrsnnError, PassError
from irsnn.ir import printers

from .base import PassContext


class Pipeline:
    """An ordered list of passes.

    Parameters
    ----------
    passes : sequence of Pass
    verify : bool
        Verify the IR after every pass (default True).
    print_after_all : bool
        Print the IR (in ``fmt``) after every pass to ``stream``.
    print_after : iterable of str
        Pass names after which to print the IR.
    dump_dir : path, optional
        Write ``NN-<pass>.{txt,json,npz,dot}`` after every pass into this folder.
    fmt : {"text", "json", "dot"}
    stream : file, default sys.stderr

    ``IRSNN_DEBUG`` >= 1 prints pass timings, >= 2 the final IR, >= 3 the IR after every pass.
    """

    def __init__(self, passes, *, verify=True, print_after_all=False, print_after=(),
                 dump_dir=None, fmt="text", stream=None):
        self.passes = list(passes)
        names = [p.name for p in self.passes]
        unknown = sorted(set(print_after) - set(names))
        if unknown:
            raise PassError(f"--print-after names {unknown}, which are not in this pipeline; "
                            f"passes are: {names}")
        if fmt not in ("text", "json", "dot"):
            raise PassError(f"unknown IR format {fmt!r}; use 'text', 'json' or 'dot'")
        debug = settings.debug_level()
        self.verify = verify
        self.print_after_all = print_after_all or debug >= 3
        self.print_after = set(print_after)
        self.print_final = debug >= 2
        self.print_timings = debug >= 1
        self.dump_dir = Path(dump_dir) if dump_dir else None
        self.fmt = fmt
        self.stream = stream
        self.timings: dict[str, float] = {}

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.passes]

    def _emit(self, graph, label):
        stream = self.stream or sys.stderr
        text = {"text": printers.to_text, "json": printers.to_json,
                "dot": printers.to_dot}[self.fmt](graph)
        stream.write(f"// ----- IR after {label} -----\n{text}")
        if not text.endswith("\n"):
            stream.write("\n")

    def _dump(self, graph, index, label):
        self.dump_dir.mkdir(parents=True, exist_ok=True)
        stem = self.dump_dir / f"{index:02d}-{label}"
        stem.with_suffix(".txt").write_text(printers.to_text(graph))
        stem.with_suffix(".dot").write_text(printers.to_dot(graph))
        printers.save(graph, stem.with_suffix(".json"))

    def run(self, graph, ctx: PassContext | None = None):
        """Run every pass on a copy of ``graph`` and return the result."""
        ctx = ctx or PassContext()
        graph = graph.copy()
        if self.dump_dir:
            self._dump(graph, 0, "input")
        done: list[str] = []
        for index, p in enumerate(self.passes, start=1):
            missing = [r for r in p.requires() if r not in ctx.provided]
            if missing:
                raise PassError(f"pass '{p.name}' requires {missing} to run first; "
                                f"passes run so far: {done or 'none'}")
            start = time.perf_counter()
            try:
                p.run(graph, ctx)
            except IrsnnError:
                raise
            except Exception as exc:
                raise PassError(f"pass '{p.name}' failed with {type(exc).__name__}: {exc} "
                                f"(passes before it: {done or 'none'}); this is a bug in "
                                f"irsnn, please report it with the IR dump "
                                f"(irsnn dump --print-after-all)") from exc
            self.timings[p.name] = time.perf_counter() - start
            done.append(p.name)
            ctx.provided.add(p.name)
            if self.verify:
                self._verify(graph, p.name, done[:-1])
            if self.print_after_all or p.name in self.print_after:
                self._emit(graph, p.name)
            if self.dump_dir:
                self._dump(graph, index, p.name)
        if self.print_timings:
            stream = self.stream or sys.stderr
            for name, secs in self.timings.items():
                stream.write(f"[irsnn] pass {name}: {secs * 1e3:.2f} ms\n")
        if self.print_final and not self.print_after_all:
            self._emit(graph, "final pass")
        return graph

    @staticmethod
    def _verify(graph, name, before):
        try:
            graph.verify()
        except IrsnnError as exc:
            raise PassError(f"IR is invalid after pass '{name}' (passes before it: "
                            f"{before or 'none'}):\n{exc}") from exc
