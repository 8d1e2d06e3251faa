"""Several blocks per example: each step's phases as launches of their own (the grid plan).

Requires: :mod:`.description` (statements) and :class:`~.render.KernelRenderer`. Provides
:class:`GridRenderer`, :func:`obstacle` and :func:`renderer_for` (the renderer of a
:class:`~.simt.Plan`).

On the one-block plan (:mod:`.simt`) a batch element runs on one work-group (CUDA block) of
``T`` threads through all its timesteps in one launch, its phases separated by barriers of the
block. A population much larger than the block leaves most of a GPU idle at small batches:
every neuron is strided over the ``T`` threads of one multiprocessor. The grid plan runs each
batch element on ``G`` blocks of ``T`` threads: ``G * T`` threads of the example share every
:class:`~.description.ParallelFor` (iteration ``var`` on thread ``var % (G * T)`` of the
example, so an element indexed by ``var`` is still owned by one thread in every such loop),
and a :class:`~.description.Single` runs on thread 0 of the example's block 0. Blocks of a
grid cannot wait for one another inside a launch (OpenCL has no grid-wide barrier, and a
spinning block deadlocks when the others are not resident), so every barrier that separates
phases becomes the end of a launch: :meth:`GridRenderer.phases` cuts the statements of one
timestep at their top-level barriers (those between kernels, and within a kernel's body, at
any depth of nested :class:`~.description.Block` scopes) into phases, and the host launches
each phase's kernel over ``batch * G`` blocks, step after step. A phase re-declares the
locals of the scopes it starts in that it uses (declarations are repeated, other statements
are not; a non-``const`` scalar local changed before a cut and read after it is refused, see
:class:`Unsplittable`). A spike
list (:class:`~.description.AppendFlagged`) takes two phases: the blocks count their flags and
publish their sums (``irsnn_blocksums``, one slot per spike list of a step), then each block
adds the sums of the blocks before it to its own prefix sum, writes its part of the list, and
every thread knows the list's length (restored wherever later phases declare the count).
Prologue, epilogue and the end-of-example kernels stay on one block per example.

What cannot be cut: a barrier inside a loop or a condition (rows of a ragged group pushed
spike by spike, which the builder replaces by a pull on this plan; EventProp's backward pass
runs at the end of an example, on one block), and a parallel loop followed by more work inside
a loop or condition. :func:`obstacle` says which phase has one; the plan falls back to one
block per example then, or refuses when several blocks were asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

from .description import (LEARNING, AppendFlagged, Barrier, Block, ByPlan, For, If, ParallelFor,
                          Program, Single, mentions, specialise)
from irsnn.lang.render_c import C99

from .render import KernelDialect, KernelRenderer, comment_text


class Unsplittable(Exception):
    """The statements of a step cannot be cut into launches (:attr:`reason`, in words)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class CountChunks:
    """First phase of a spike list on the grid plan: each thread counts the flags of its
    contiguous chunk; each block publishes the sum of its threads' counts in slot ``slot`` of
    ``irsnn_blocksums``."""

    of: AppendFlagged
    slot: int


@dataclass
class ListChunks:
    """Second phase: each thread writes its chunk's part of the list, starting after the
    blocks before its own and the threads before it in its block; then ``count`` holds the
    list's length in every thread."""

    of: AppendFlagged
    slot: int


#: a declaration of a mutable scalar local (``int32_t cnt = 0;``): not ``const``, no pointer
_MUTABLE = re.compile(r"^\s*(?!const\b)(?:[A-Za-z_]\w*\s+)+([A-Za-z_]\w*)\s*=(?!=)")


#: a declaration of a local (its name in group 1), or an assignment to one (group 2)
_DEFINES = re.compile(r"^\s*(?:(?:GLOBAL\s+)?(?:const\s+)?[A-Za-z_][\w ]*?[\s*]+"
                      r"([A-Za-z_]\w*)|([A-Za-z_]\w*))\s*=(?!=)")
_WORD = re.compile(r"[A-Za-z_]\w*")


def _pruned(seg: list) -> list:
    """``seg`` without the declarations (and assignments) of locals that nothing after them
    in it reads: a phase keeps the declarations of its scope, which other phases may be the
    ones to use (CUDA warns about unused variables)."""
    keep, needed = [], set()
    for s in reversed(seg):
        m = _DEFINES.match(s) if isinstance(s, str) else None
        if m and (m.group(1) or m.group(2)) not in needed:
            continue
        keep.append(s)
        needed.update(_WORD.findall(s if isinstance(s, str) else _text([s])))
    return keep[::-1]


def _spliced(stmts: list) -> list:
    """``stmts`` with every :class:`~.description.ByPlan` replaced by its block form, at any
    depth."""
    out = []
    for s in stmts:
        if isinstance(s, ByPlan):
            out += _spliced(s.block)
        elif isinstance(s, str):
            out.append(s)
        else:
            out.append(replace(s, **{f.name: _spliced(getattr(s, f.name)) for f in fields(s)
                                     if isinstance(getattr(s, f.name), list)}))
    return out


def _lists(s) -> list:
    return [getattr(s, f.name) for f in fields(s) if isinstance(getattr(s, f.name), list)]


def _nested_obstacle(s) -> str | None:
    """Why ``s``, inside a loop or condition, needs threads to wait for one another (None:
    it does not). The body of a :class:`~.description.Single` runs on one thread: nothing in
    it waits."""
    if isinstance(s, (str, Single)):
        return None
    if isinstance(s, Barrier):
        return "a barrier inside a loop or a condition"
    if isinstance(s, AppendFlagged):
        return "a spike list (a prefix sum over the threads) inside a loop or a condition"
    for body in _lists(s):
        for at, x in enumerate(body):
            if isinstance(x, ParallelFor) and at + 1 < len(body):
                return "a parallel loop followed by more work inside a loop or a condition"
            reason = _nested_obstacle(x)
            if reason:
                return reason
    return None


def _text(stmts) -> str:
    """Every string of ``stmts`` at any depth, joined (to find which locals they use)."""
    out = []
    for s in stmts:
        if isinstance(s, str):
            out.append(s)
        elif isinstance(s, CountChunks):
            out.append(s.of.flags)
        elif isinstance(s, ListChunks):
            out.append(f"{s.of.flags} {s.of.count} " + _text(s.of.body))
        elif not isinstance(s, Barrier):
            out += [f"{getattr(s, f.name)}" for f in fields(s)
                    if isinstance(getattr(s, f.name), str) and f.name != "comment"]
            out += [_text(body) for body in _lists(s)]
    return "\n".join(out)


class _Splitter:
    """Cuts the statements of one timestep into phases (see the module docstring)."""

    def __init__(self, batch: int):
        self.batch = batch
        self.slots = 0

    def _check_carried(self, touched, later, where):
        """Refuse a cut after which ``later`` statements read a mutable local that work
        before the cut may have changed (``touched``): its value would be lost with the
        launch (a repeated declaration gives back only its first value)."""
        for name in touched:
            # (up to a spike list that sets it: its count starts from the blocks' sums)
            upto = next((at for at, s in enumerate(later)
                         if isinstance(s, AppendFlagged) and s.count == name), len(later))
            if re.search(rf"\b{name}\b", _text(later[:upto])):
                raise Unsplittable(f"{where}: the local '{name}' carries a value across a "
                                   f"barrier")

    def total(self, count: str, slot: int) -> str:
        """A statement setting ``count`` to the length of the list of ``slot``."""
        sums = f"irsnn_blocksums + ((size_t){slot} * {self.batch} + b) * IRSNN_BLOCKS"
        return (f"{count} = 0; for (int32_t _g = 0; _g < IRSNN_BLOCKS; _g++) {{ {count} += "
                f"({sums})[_g]; }}")

    def split(self, stmts: list, where: str) -> list[list]:
        """The phases of ``stmts`` (one scope): lists of statements, each beginning with the
        declarations of the scope before it (none for the first)."""
        segs, work, replay = [[]], [False], []
        mutable, touched = set(), set()

        def cut(later):
            if work[-1]:
                self._check_carried(touched, later, where)
                segs.append(list(replay))
                work.append(False)

        def did(s):     # work ``s`` was added to the phase: the mutable locals it may change
            text = _text([s])
            touched.update(n for n in mutable if re.search(rf"\b{n}\b", text))

        for at, s in enumerate(stmts):
            later = stmts[at + 1:]
            if isinstance(s, str):
                segs[-1].append(s)
                declares = _DEFINES.match(s)
                if (declares and declares.group(1)) or s.startswith("(void)"):
                    replay.append(s)        # (declarations only: nothing that writes memory)
                    m = _MUTABLE.match(s)
                    if m:
                        mutable.add(m.group(1))
                else:
                    did(s)      # a statement between declarations: once, in this phase
            elif isinstance(s, Barrier):
                cut(later)
            elif isinstance(s, Block):
                inner = self.split(s.body, s.comment or where)
                segs[-1].append(Block(inner[0], s.comment))
                work[-1] = True
                did(s)
                if len(inner) > 1:
                    self._check_carried(touched, [s] + later, where)
                for seg in inner[1:]:
                    segs.append(list(replay) + [Block(seg, s.comment)])
                    work.append(True)
            elif isinstance(s, AppendFlagged):
                slot, self.slots = self.slots, self.slots + 1
                segs[-1].append(CountChunks(s, slot))
                work[-1] = True
                cut([s] + later)
                segs[-1].append(ListChunks(s, slot))
                work[-1] = True
                replay.append(self.total(s.count, slot))
                did(ListChunks(s, slot))
                touched.discard(s.count)
                cut(later)
            else:
                reason = (_nested_obstacle(s) if not isinstance(s, ParallelFor)
                          else next(filter(None, map(_nested_obstacle, s.body)), None))
                if reason:
                    raise Unsplittable(f"{where}: {reason}")
                segs[-1].append(s)
                work[-1] = True
                did(s)
                if isinstance(s, ParallelFor) and later and not isinstance(later[0], Barrier):
                    cut(later)
        kept = [_pruned(seg) for seg, w in zip(segs, work) if w]
        return kept or [[]]


def step_statements(renderer: KernelRenderer, program: Program) -> list:
    """The statements of one timestep (``k`` = 0 of the fused time loop), ByPlans spliced."""
    loop, = renderer.time_loop(program)
    return ["const int64_t k = 0;"] + _spliced(loop.body)


class GridRenderer(KernelRenderer):
    """Render a program for ``blocks`` work-groups of ``threads`` threads per batch element
    (see the module docstring): :meth:`grid_source` is the whole source."""

    def __init__(self, dialect, threads: int, blocks: int, indent: str = "    "):
        super().__init__(dialect, indent, threads)
        if blocks < 2:
            raise ValueError(f"the grid plan needs several blocks per example, not {blocks}")
        self.blocks = blocks
        self.stride = "IRSNN_EXAMPLE_THREADS"

    def phases(self, program: Program, learning: bool | None) -> tuple[list, int]:
        """``(phases of one step, spike-list slots)`` with learning on, off, or (None) as
        the program has it (no learning phases)."""
        self._batch = program.constants["batch_size"]
        stmts = step_statements(self, program)
        if learning is not None:
            stmts = specialise(stmts, LEARNING, learning)
        splitter = _Splitter(program.constants["batch_size"])
        return splitter.split(stmts, "the step"), splitter.slots

    def learning_variants(self, program: Program) -> bool:
        return mentions(self.time_loop(program), LEARNING)

    def extra(self, s, level):
        if isinstance(s, CountChunks):
            return self.statements(self._chunks(s, listing=False), level)
        if isinstance(s, ListChunks):
            return self.statements(self._chunks(s, listing=True), level)
        return super().extra(s, level)

    def _barrier_line(self, out, pad):
        raise Unsplittable("a barrier left inside a phase of the grid plan")

    def _chunks(self, c, listing: bool) -> list:
        """A spike list's phase (:class:`CountChunks`, :class:`ListChunks`): contiguous
        chunks per thread of the example, an inclusive prefix sum over the block in local
        memory, the sums of the blocks in ``irsnn_blocksums``."""
        s, bar, ind = c.of, self.dialect.barrier, self.indent
        n = s.extent
        sums = (f"irsnn_blocksums + ((size_t){c.slot} * "
                f"{self._batch} + b) * IRSNN_BLOCKS")
        head = [f"GLOBAL const int8_t *_flags = {s.flags};",
                f"GLOBAL int32_t *_sums = {sums};",
                f"const int32_t _chunk = ({n} + IRSNN_EXAMPLE_THREADS - 1) / "
                f"IRSNN_EXAMPLE_THREADS;",
                f"const int32_t _lo = irsnn_lid * _chunk < {n} ? irsnn_lid * _chunk : {n};",
                f"const int32_t _hi = _lo + _chunk < {n} ? _lo + _chunk : {n};",
                "int32_t _mine = 0;",
                "for (int32_t _c = 0; _c < _chunk; _c++) { if (_lo + _c < _hi) { _mine += "
                "_flags[_lo + _c] != 0 ? 1 : 0; } }",
                "irsnn_scan[irsnn_local] = _mine;", bar,
                "for (int32_t _d = 1; _d < IRSNN_THREADS; _d <<= 1) {\n"
                f"{ind}const int32_t _add = irsnn_local >= _d ? "
                "irsnn_scan[irsnn_local - _d] : 0;\n"
                f"{ind}{bar}\n{ind}irsnn_scan[irsnn_local] += _add;\n{ind}{bar}\n}}"]
        if not listing:
            return [Block(head + ["if (irsnn_local == IRSNN_THREADS - 1) "
                                  "{ _sums[irsnn_blk] = irsnn_scan[irsnn_local]; }"])]
        visit = [f"const int8_t {s.flag} = _flags[{s.var}];",
                 If(f"{s.flag} != 0", list(s.body) + [f"{s.count}++;"])]
        return [Block(head + [
            "int32_t _before = 0;",
            "for (int32_t _g = 0; _g < irsnn_blk; _g++) { _before += _sums[_g]; }",
            f"{s.count} = _before + irsnn_scan[irsnn_local] - _mine;",
            For("_c", "_chunk", [f"const int32_t {s.var} = _lo + _c;",
                                 If(f"{s.var} < _hi", visit)])]),
            self._total(s.count, c.slot)]

    def _total(self, count, slot) -> str:
        return _Splitter(self._batch).total(count, slot)

    def _head(self) -> list:
        d = self.dialect
        return [f"const int32_t irsnn_blk = {d.block_index} % IRSNN_BLOCKS;",
                f"const int32_t b = {d.block_index} / IRSNN_BLOCKS;",
                f"const int32_t irsnn_local = {d.thread_index};",
                "const int32_t irsnn_lid = irsnn_blk * IRSNN_THREADS + irsnn_local;",
                "(void)b; (void)irsnn_lid; (void)irsnn_local; (void)irsnn_blocksums;"]

    def phase_kernel(self, program: Program, name: str, stmts: list) -> str:
        """One phase as a kernel (the fused kernels' parameters and ``irsnn_blocksums``)."""
        params = self.fused_parameters(program) + ["GLOBAL int32_t *RESTRICT irsnn_blocksums"]
        text = self.statements(self._head() + stmts, 1)
        if any("irsnn_scan[" in line for line in text):
            text.insert(0, f"{self.indent}{self.dialect.local_qualifier} int32_t "
                           f"irsnn_scan[IRSNN_THREADS];")
        sep = ",\n" + " " * (len(self.dialect.kernel_prefix) + len(name) + 2)
        return (f"{self.dialect.kernel_prefix} {name}({sep.join(params)})\n{{\n"
                + "\n".join(text) + "\n}\n")

    def kernel_names(self, program: Program) -> dict:
        """``{learning: [phase kernel names]}`` (``True``/``False`` where learning phases
        exist, else ``None``), and the spike-list slots under ``"slots"``."""
        self._batch = program.constants["batch_size"]
        variants = (True, False) if self.learning_variants(program) else (None,)
        out, slots = {}, 0
        for v in variants:
            phases, n = self.phases(program, v)
            slots = max(slots, n)
            stem = "irsnn_step_infer" if v is False else "irsnn_step"
            out[v] = [f"{stem}_{i}" for i in range(len(phases))]
        out["slots"] = slots
        return out

    def plan(self, program: Program) -> str:
        names = self.kernel_names(program)
        launches = len(names.get(True, names.get(None)))
        return (f"plan: {self.blocks} work-groups of {self.threads} threads per batch element "
                f"({self.blocks * self.threads} threads share its neurons and synapses); each "
                f"timestep's phases are launches of their own ({launches} a step), spike lists "
                f"by a prefix sum over the blocks; prologue, epilogue and the end of an "
                f"example on one work-group per batch element"
                + "".join(f"; {note}" for note in program.plan_notes))

    def grid_source(self, program: Program, title: str, why: str = "") -> str:
        """The complete source: the phase kernels of a step (learning on and off where the
        program has learning phases), the prologue and epilogue (one block per example), and
        the end-of-example, scatter and optimiser kernels as :meth:`fused_source` has them."""
        names = self.kernel_names(program)
        one = KernelRenderer(self.dialect, self.indent, self.threads)
        parts = [f"/* irsnn: model '{comment_text(title)}' (generated) */", self.dialect.header,
                 f"#define IRSNN_THREADS {self.threads}\n#define IRSNN_BLOCKS {self.blocks}\n"
                 f"#define IRSNN_EXAMPLE_THREADS (IRSNN_THREADS * IRSNN_BLOCKS)\n"]
        plan = self.plan(program) + (f" (chosen: {why})" if why else "")
        parts += [f"/* {comment_text(plan)} */", self.helpers(program)]
        for name, kernels in (("irsnn_prologue", program.prologue),
                              ("irsnn_epilogue", program.epilogue)):
            if kernels:
                parts.append(one.fused_kernel(program, name, kernels))
        for v, kernel_names in names.items():
            if v == "slots":
                continue
            phases, _ = self.phases(program, v)
            parts += [self.phase_kernel(program, name, stmts)
                      for name, stmts in zip(kernel_names, phases)]
        parts += one.end_parts(program)
        return "\n".join(parts)


#: a dialect for finding phases (no source is rendered with it)
_PHASES = KernelDialect(lang=C99, block_index="0", thread_index="0", barrier="/* barrier */")


def obstacle(program: Program, threads: int, blocks: int) -> str | None:
    """Why ``program`` cannot run on ``blocks`` blocks of ``threads`` per example (None: it
    can)."""
    try:
        GridRenderer(_PHASES, threads, blocks).kernel_names(program)
    except Unsplittable as exc:
        return exc.reason
    return None


def renderer_for(dialect, plan) -> KernelRenderer:
    """The renderer of a :class:`~.simt.Plan` (None: one thread per grid point)."""
    threads = plan.threads if plan is not None else None
    blocks = getattr(plan, "blocks", 1) if plan is not None else 1
    if threads is not None and blocks > 1:
        return GridRenderer(dialect, threads, blocks)
    return KernelRenderer(dialect, threads=threads)


def source_for(dialect, plan, program: Program, title: str) -> str:
    """The complete source of ``program`` on ``plan`` (its reason in the plan comment)."""
    renderer = renderer_for(dialect, plan)
    why = plan.reason if plan is not None else ""
    if isinstance(renderer, GridRenderer):
        return renderer.grid_source(program, title, why)
    return renderer.fused_source(program, title, why)


__all__ = ["CountChunks", "GridRenderer", "ListChunks", "Unsplittable", "obstacle",
           "renderer_for", "source_for", "step_statements"]
