"""Render a :class:`~.description.Program` as C-family source.

Requires: a :class:`~.description.Program` and :mod:`irsnn.lang.render_c` (the
language dialect of model code). Provides :class:`KernelDialect`, :data:`C_KERNELS` (the C
dialect), :class:`KernelRenderer`, the flags :data:`FIRST_FLAG` and :data:`NARROW_GATHERS`, and
the two functions through which text a user wrote (population, connection, model and compile
names) reaches generated source: :func:`comment_text` (inside ``/* */``) and
:func:`file_stem` (in a file name). No user text becomes an identifier or a string literal.

One renderer serves every dialect; a :class:`KernelDialect` holds what differs between them as
data: how a kernel is declared, how its parallel grid is enumerated, pointer qualifiers,
atomics, and the language dialect for model code. The C dialect enumerates grids with loops
and parallelises the outermost dimension with OpenMP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from irsnn.lang.render_c import C99, Dialect

from .description import (LEARNING, AddSetBits, AppendFlagged, AtomicAdd, Barrier, Block,
                          ByPlan, For, ForFlagged, ForSetBits, If, Kernel, ParallelFor, Prefetch,
                          Program, Single, mentions, specialise)


def comment_text(text) -> str:
    """``text`` made safe inside a ``/* */`` comment of generated source: printable ASCII is
    kept; other characters (newlines, control characters, non-ASCII) are written as escapes
    (``\\n``, ``\\x07``, ``\\u00e9``); ``*/`` and ``/*`` are broken (``* /``, ``/ *``), so the
    comment can neither end early nor open another, and nothing in it starts a directive.
    Text of printable ASCII without ``*/`` or ``/*`` is returned unchanged.

    Parameters
    ----------
    text : object
        The text (its ``str``), e.g. a kernel's doc naming populations and connections.

    Returns
    -------
    str
        One line of printable ASCII.
    """
    text = str(text)
    if not text.isascii() or not text.isprintable():
        text = "".join(c if " " <= c <= "~" else ascii(c)[1:-1] for c in text)
    # spaces inserted between '*' and '/' create no new pair, so one pass of each suffices
    return re.sub(r"/(?=\*)", "/ ", re.sub(r"\*(?=/)", "* ", text))


def file_stem(name, keep: str = "", default: str = "model") -> str:
    """``name`` usable as the stem of a generated file's name: every character other than an
    ASCII letter, digit, ``_`` or one of ``keep`` becomes ``_``, and leading dots are dropped
    (no path separator, no hidden file); ``default`` when nothing is left.

    Parameters
    ----------
    name : object
        The name (its ``str``), e.g. the name a model was compiled with.
    keep : str
        Further characters kept as they are (e.g. ``".-"``; never a path separator).
    default : str
        The stem of a name with nothing left.

    Returns
    -------
    str
    """
    keep = keep.replace("/", "").replace("\\", "")
    return re.sub(f"[^A-Za-z0-9_{re.escape(keep)}]", "_", str(name)).lstrip(".") or default


@dataclass(frozen=True)
class KernelDialect:
    """The data that distinguishes one C-family target from another.

    Attributes
    ----------
    lang : Dialect
        Model-code dialect (types, literal suffixes, math function names).
    kernel_prefix : str
        Declaration of a kernel function (``static void`` in C, ``__kernel void`` in OpenCL).
    global_qualifier : str
        Qualifier of pointers to global memory (empty in C, ``__global`` in OpenCL).
    parallel_pragma : str
        Line before a parallel grid loop (``{extent}`` is substituted); empty for GPU dialects.
    grid_index : str
        Expression of a grid index on dialects with implicit grids (``{dim}`` is substituted),
        empty when grids are loops.
    atomic_add : str
        Template of an atomic float add (``{target}``, ``{value}``).
    prefetch : str
        Template of a read prefetch hint (``{address}``); empty where the target has none.
    count_trailing_zeros : str
        Template of the index of the lowest set bit of a non-zero ``uint32_t`` (``{x}``, an
        identifier), as an ``int32_t``.
    bit_lanes : bool
        Render :class:`~.description.AddSetBits` as 32 branch-free lanes (vector CPUs) rather
        than a loop over the set bits (GPU threads).
    flag_words : bool
        Render :class:`~.description.ForFlagged` loading eight flags at once (one 64-bit load)
        and jumping to each non-zero one (CPUs; needs GCC/Clang builtins, see
        :data:`FIRST_FLAG`) rather than testing one flag at a time.
    narrow_gathers : str
        Attribute of kernel functions flagged :attr:`~.description.Kernel.gathers`; empty for
        none. C: a macro (:data:`NARROW_GATHERS`) asking GCC on x86 for 128-bit vectors
        there: on AVX-512 CPUs its 512-bit gather loops over rows or columns of ~5-100
        synapses spend their time in gathers and remainder loops (measured on Zen 4: e-prop
        traces of ragged rows 1.4 ns per synapse and step with 128-bit vectors, 2.0 ns with
        512; by columns, ALIF512R's whole sparse online example 9.3 ms with 128, 12.1 ms
        with 512).
    """

    lang: Dialect
    kernel_prefix: str = "static void"
    global_qualifier: str = ""
    parallel_pragma: str = "#pragma omp parallel for schedule(static)"
    grid_index: str = ""
    atomic_add: str = "{target} += {value};"
    prefetch: str = "__builtin_prefetch({address});"
    count_trailing_zeros: str = "__builtin_ctz({x})"
    bit_lanes: bool = True
    flag_words: bool = True
    narrow_gathers: str = "IRSNN_NARROW_GATHERS"
    #: declarations before everything else (pragmas, typedefs, GLOBAL/RESTRICT macros) for
    #: targets compiled as one fused kernel (OpenCL, CUDA)
    header: str = ""
    #: SIMT targets (a block of threads per batch element; empty where a grid point is one
    #: thread): the index of the block and of the thread within it, a block-wide barrier
    #: with memory fence, and the qualifier of arrays in the block's local (shared) memory
    block_index: str = ""
    thread_index: str = ""
    barrier: str = ""
    local_qualifier: str = ""


#: ``irsnn_first_flag(w)``: the index (0-7) of the first non-zero ``int8_t`` flag of eight
#: loaded as one ``uint64_t`` ``w`` (non-zero), in memory order on either byte order; for
#: dialects with :attr:`KernelDialect.flag_words` (GCC/Clang builtins)
FIRST_FLAG = """static inline int32_t irsnn_first_flag(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (int32_t)(__builtin_clzll(w) >> 3);
#else
    return (int32_t)(__builtin_ctzll(w) >> 3);
#endif
}
"""

#: Definition of the C dialect's :attr:`KernelDialect.narrow_gathers` attribute (GCC 8 added
#: ``prefer-vector-width``; other compilers get nothing)
NARROW_GATHERS = """\
#if defined(__GNUC__) && __GNUC__ >= 8 && !defined(__clang__) && defined(__x86_64__)
#define IRSNN_NARROW_GATHERS __attribute__((target("prefer-vector-width=128")))
#else
#define IRSNN_NARROW_GATHERS
#endif
"""

#: C99 + OpenMP
C_KERNELS = KernelDialect(lang=C99)


class KernelRenderer:
    """Render programs for one :class:`KernelDialect`.

    Parameters
    ----------
    dialect : KernelDialect
        The target.
    indent : str
        One level of indentation.
    threads : int or None
        Threads per block (work-group) for the SIMT plan of fused kernels (one block per
        batch element; the dialect must have a :attr:`~KernelDialect.thread_index`); None
        renders every grid point on one thread (C, and fused kernels one thread per batch
        element).
    """

    def __init__(self, dialect: KernelDialect = C_KERNELS, indent: str = "    ",
                 threads: int | None = None):
        if threads is not None and not dialect.thread_index:
            raise ValueError("this kernel dialect has no threads within a block")
        if threads is not None and threads < 1:
            raise ValueError(f"threads per block must be >= 1, not {threads}")
        self.dialect = dialect
        self.indent = indent
        self.threads = threads

    def statements(self, stmts, level: int) -> list[str]:
        pad = self.indent * level
        out = []
        # (a ByPlan's statements are spliced in: a barrier that opens them follows the one
        # that closes the phase before them, and only one of the two is rendered)
        stmts = self._spliced(stmts)
        for at, s in enumerate(stmts):
            if isinstance(s, ParallelFor) and self.threads is not None:
                out += self.statements(self._strided(s), level)
                # A barrier after a block-wide loop followed by more statements, although a
                # ParallelFor's elements stay with their threads: PoCL (3.0 and 3.1) miscompiled
                # a phase writing an element in one ParallelFor and updating it in the next
                # (feedback signals zeroed then summed: the zeroing was lost when some threads
                # had no element), and it orders the phases of a kernel on every target
                if (at + 1 < len(stmts) and not isinstance(stmts[at + 1], Barrier)
                        and self.threads > 1):
                    self._barrier_line(out, pad)
                continue
            if isinstance(s, str):
                out.extend(pad + line if line.strip() else "" for line in s.split("\n"))
            elif isinstance(s, Barrier):
                # (a block of one thread needs none: PoCL took minutes to build such kernels
                # with barriers, for an online e-prop model by columns)
                if self.threads is not None and self.threads > 1:
                    self._barrier_line(out, pad)
            elif isinstance(s, Single):
                if self.threads is None:
                    out += self.statements(s.body, level)
                else:
                    # one thread: its parallel loops are whole loops, its barriers none
                    self.threads, threads = None, self.threads
                    try:
                        out += self.statements([If("irsnn_lid == 0", list(s.body))], level)
                    finally:
                        self.threads = threads
            elif isinstance(s, AppendFlagged):
                out += self.statements(self._append_flagged(s), level)
            elif isinstance(s, For):
                step = f"{s.var}++" if s.step == "1" else f"{s.var} += {s.step}"
                out.append(f"{pad}for ({s.type} {s.var} = {s.start}; {s.var} < {s.extent}; "
                           f"{step}) {{")
                out += self.statements(s.body, level + 1)
                out.append(pad + "}")
            elif isinstance(s, ForSetBits):
                rest = f"_bits_{s.var}"
                out.append(f"{pad}for (uint32_t {rest} = {s.word}; {rest} != 0u; "
                           f"{rest} &= {rest} - 1u) {{")
                out += self.statements([f"const int32_t {s.var} = irsnn_ctz({rest});"]
                                       + list(s.body), level + 1)
                out.append(pad + "}")
            elif isinstance(s, AddSetBits):
                out += self.statements(self._set_bits(s), level)
            elif isinstance(s, If):
                out.append(f"{pad}if ({s.cond}) {{")
                out += self.statements(s.then, level + 1)
                if s.otherwise:
                    out.append(pad + "} else {")
                    out += self.statements(s.otherwise, level + 1)
                out.append(pad + "}")
            elif isinstance(s, Block):
                out.append(pad + "{" + (f"  /* {comment_text(s.comment)} */" if s.comment else ""))
                out += self.statements(s.body, level + 1)
                out.append(pad + "}")
            elif isinstance(s, ForFlagged):
                out += self._for_flagged(s, level)
            elif isinstance(s, AtomicAdd):
                out.append(pad + self.dialect.atomic_add.format(target=s.target, value=s.value))
            elif isinstance(s, Prefetch):
                if self.dialect.prefetch:
                    out.append(f"{pad}for (int32_t _p = 0; _p < {s.extent}; _p += {s.stride}) "
                               + self.dialect.prefetch.format(address=f"{s.base} + _p"))
            else:
                out += self.extra(s, level)
        return out

    def extra(self, s, level: int) -> list[str]:
        """Lines of a statement that is none of the description's (renderers of other plans
        add their own, see :mod:`.grid`)."""
        raise TypeError(f"kernel renderer: unknown statement {s!r}")

    def _spliced(self, stmts) -> list:
        """``stmts`` with every :class:`ByPlan` among them replaced by the statements of
        this renderer's plan (at any depth of ByPlans in ByPlans)."""
        out = []
        for s in stmts:
            if isinstance(s, ByPlan):
                out += self._spliced(s.serial if self.threads is None else s.block)
            else:
                out.append(s)
        return out

    def _barrier_line(self, out: list, pad: str):
        """Append a barrier to ``out`` unless its last line is one (a phase that ends in
        one followed by a phase that begins with one)."""
        if not out or out[-1].strip() != self.dialect.barrier.strip():
            out.append(pad + self.dialect.barrier)

    def _set_bits(self, s: AddSetBits) -> list:
        if self.dialect.bit_lanes and s.lanes:
            lane = [f"const int32_t j = {s.base} + k;",
                    f"{s.target} += ((({s.word} >> k) & 1u) != 0u) ? {s.value} : {s.zero};"]
            return [If(f"{s.word} != 0u", [For("k", s.extent, lane)])]
        return [f"while ({s.word} != 0u) {{",
                f"{self.indent}const int32_t j = {s.base} + irsnn_ctz({s.word});",
                f"{self.indent}{s.target} += {s.value};",
                f"{self.indent}{s.word} &= {s.word} - 1u;", "}"]

    #: the threads a :class:`ParallelFor` is strided over (a macro of the source)
    stride = "IRSNN_THREADS"

    def _strided(self, s: ParallelFor) -> list:
        """A :class:`ParallelFor` across the block: iteration ``var`` on thread ``var %
        IRSNN_THREADS``. Every thread runs the same number of rounds (the last one guarded),
        never a trip count of its own: PoCL 3.0 (LLVM 14) miscompiled ``for (var = start +
        lid; var < extent; var += IRSNN_THREADS)`` where some threads run no iteration (the
        neuron updates of a population smaller than the block, with signed spike flags, ran
        on no thread at all), and on GPUs a uniform loop costs nothing more."""
        base = f"_r_{s.var}"
        return [For(base, s.extent, [
            f"const {s.type} {s.var} = {base} + irsnn_lid;",
            If(f"{s.var} < {s.extent}", list(s.body))], type=s.type, start=s.start,
            step=self.stride)]

    def _append_flagged(self, s: AppendFlagged) -> list:
        if self.threads is None:
            return [ForFlagged(s.var, s.extent, s.flags, s.flag,
                               list(s.body) + [f"{s.count}++;"])]
        # Each thread takes a contiguous chunk; an inclusive prefix sum of the chunks' counts
        # over the block (Hillis-Steele in local memory) gives where each chunk's list begins
        n, flags = s.extent, s.flags
        visit = [f"const int8_t {s.flag} = _flags[{s.var}];",
                 If(f"{s.flag} != 0", list(s.body) + [f"{s.count}++;"])]
        return [Block([
            f"GLOBAL const int8_t *_flags = {flags};",
            f"const int32_t _chunk = ({n} + IRSNN_THREADS - 1) / IRSNN_THREADS;",
            f"const int32_t _lo = irsnn_lid * _chunk < {n} ? irsnn_lid * _chunk : {n};",
            f"const int32_t _hi = _lo + _chunk < {n} ? _lo + _chunk : {n};",
            "int32_t _mine = 0;",
            # (every thread runs _chunk rounds, guarded: see _strided)
            For("_c", "_chunk", ["const int32_t _e = _lo + _c;",
                                 If("_e < _hi", ["_mine += _flags[_e] != 0 ? 1 : 0;"])]),
            "irsnn_scan[irsnn_lid] = _mine;",
            Barrier(),
            "for (int32_t _d = 1; _d < IRSNN_THREADS; _d <<= 1) {\n"
            f"{self.indent}const int32_t _add = irsnn_lid >= _d ? "
            "irsnn_scan[irsnn_lid - _d] : 0;\n"
            f"{self.indent}{self.dialect.barrier}\n"
            f"{self.indent}irsnn_scan[irsnn_lid] += _add;\n"
            f"{self.indent}{self.dialect.barrier}\n}}" if self.threads > 1 else "",
            f"{s.count} = irsnn_scan[irsnn_lid] - _mine;",
            For("_c", "_chunk", [f"const int32_t {s.var} = _lo + _c;",
                                 If(f"{s.var} < _hi", visit)]),
            f"{s.count} = irsnn_scan[IRSNN_THREADS - 1];",
            Barrier()])]

    def _for_flagged(self, s: ForFlagged, level: int) -> list[str]:
        q = (self.dialect.global_qualifier + " ") if self.dialect.global_qualifier else ""
        visit = [f"const int8_t {s.flag} = _flags[{s.var}];", If(f"{s.flag} != 0", s.body)]
        if not self.dialect.flag_words or s.extent < 16:
            return self.statements([Block([f"{q}const int8_t *_flags = {s.flags};",
                                           For(s.var, str(s.extent), visit)])], level)
        # Eight flags per 64-bit load; the set ones are visited by finding the first non-zero
        # byte and clearing it (no per-flag branch: spikes are rare and unpredictable).
        words = s.extent // 8
        first = ["const int32_t _k = irsnn_first_flag(_word);",
                 "_word &= ~((uint64_t)0xFF << (8 * _k));",
                 f"const int32_t {s.var} = 8 * _w + _k;",
                 f"const int8_t {s.flag} = _flags[{s.var}];", f"(void){s.flag};"] + list(s.body)
        scan = ["uint64_t _word;", "__builtin_memcpy(&_word, _flags + 8 * _w, 8);",
                "while (_word != 0) {", *[self.indent + line for line in
                                          self.statements(first, 0)], "}"]
        body = [f"{q}const int8_t *_flags = {s.flags};", For("_w", str(words), scan)]
        if s.extent % 8:
            body.append(For("_r", str(s.extent - 8 * words),
                            [f"const int32_t {s.var} = {8 * words} + _r;"] + visit))
        return self.statements([Block(body)], level)

    def function_prefix(self, k: Kernel) -> str:
        """What precedes the name of kernel ``k``'s function: the dialect's prefix, and for
        kernels that gather along synapse rows its :attr:`~KernelDialect.narrow_gathers`."""
        if k.gathers and self.dialect.narrow_gathers:
            return f"{self.dialect.kernel_prefix} {self.dialect.narrow_gathers}"
        return self.dialect.kernel_prefix

    def kernel(self, k: Kernel, step_args) -> str:
        args = ", ".join(f"{t} {n}" for t, n in tuple(step_args) + tuple(k.args))
        lines = [f"/* {comment_text(k.doc)} */"] if k.doc else []
        lines.append(f"{self.function_prefix(k)} {k.name}({args})")
        lines.append("{")
        body, level = list(k.body), 1
        if self.dialect.grid_index:
            pre = [f"const int32_t {dim.var} = {self.dialect.grid_index.format(dim=i)};"
                   for i, dim in enumerate(k.grid)]
            guard = " || ".join(f"{dim.var} >= {dim.extent}" for dim in k.grid)
            lines += self.statements(pre + ([f"if ({guard}) return;"] if guard else []) + body,
                                     1)
        else:
            for dim in k.grid:
                # A parallel region costs microseconds even when it runs on one thread
                if level == 1 and self.dialect.parallel_pragma and dim.extent > 1:
                    lines.append(self.indent
                                 + self.dialect.parallel_pragma.format(extent=dim.extent))
                lines.append(f"{self.indent * level}for (int32_t {dim.var} = 0; {dim.var} < "
                             f"{dim.extent}; {dim.var}++) {{")
                level += 1
            lines += self.statements(body, level)
            for depth in range(level - 1, 0, -1):
                lines.append(self.indent * depth + "}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def buffer_declarations(self, program: Program) -> str:
        q = (self.dialect.global_qualifier + " ") if self.dialect.global_qualifier else ""
        return "\n".join(f"static {q}{b.ctype} *restrict {b.name};"
                         for b in list(program.buffers) + list(program.egps)) + "\n"

    # -- one fused kernel: the whole time loop for one batch element per work-item -------------
    def intrinsics(self) -> str:
        """Bit helpers kernels call, defined with this dialect's instructions:
        ``irsnn_ctz(x)``, the index of the lowest set bit of a non-zero ``uint32_t``, and with
        :attr:`~KernelDialect.flag_words` also :data:`FIRST_FLAG`."""
        ctz = self.dialect.count_trailing_zeros.format(x="x")
        text = (f"{self.dialect.lang.function_qualifier} int32_t irsnn_ctz(uint32_t x) "
                f"{{ return (int32_t)({ctz}); }}\n")
        if self.dialect.flag_words:
            text += FIRST_FLAG
        return text

    def helpers(self, program: Program) -> str:
        """Model-code helpers, the RNG and :meth:`intrinsics`, with this dialect's function
        qualifier and without host includes (the header supplies the types)."""
        text = self.dialect.lang.prelude + "\n" + program.helpers
        text = "\n".join(line for line in text.splitlines()
                          if not line.lstrip().startswith("#include"))
        return text.replace("static inline", self.dialect.lang.function_qualifier) + "\n" + \
            self.intrinsics()

    def _phase(self, k: Kernel) -> list:
        """The body of kernel ``k`` as one phase of a fused kernel: as it is for one thread
        per batch element or a kernel written for a block (:attr:`~.description.Kernel.
        parallel`), else run by one thread of the block."""
        body = list(k.body)
        return body if self.threads is None or k.parallel else [Single(body)]

    def _barrier(self) -> list:
        return [Barrier()] if self.threads is not None else []

    def time_loop(self, program: Program) -> list:
        """Statements running ``steps`` timesteps of every per-step kernel for the batch element
        ``b`` in scope (batch elements are independent: no synchronisation between them; with
        :attr:`threads`, the phases of a step are separated by barriers of the block)."""
        for k in program.kernels:
            if tuple(d.var for d in k.grid) != ("b",):
                raise ValueError(f"kernel {k.name} has grid {k.grid}; fused loops need (b,)")
        # (a barrier opening the step as well: PoCL's work-group loops mishandle a first
        # phase that follows the loop head directly)
        loop = self._barrier()
        for k in program.kernels:
            body = list(k.body)
            if k.args:
                body[:0] = ["const int64_t rec_step = rec0 + k;", "(void)rec_step;"]
            block = Block(self._phase(Kernel(k.name, k.args, k.grid, body,
                                             parallel=k.parallel)), comment=k.doc)
            loop.append(If(LEARNING, [block]) if k.learning else block)
            loop += self._barrier()
        return [For("k", "steps", ["const int64_t ts = ts0 + k;",
                                   program.time_declaration(),
                                   "const uint32_t rng_step = rng0 + (uint32_t)k;",
                                   "(void)t; (void)rng_step;"] + loop, type="int64_t")]

    def in_sequence(self, kernels) -> list:
        """Statements running ``kernels`` (grid ``(b,)``) one after another for the batch
        element ``b`` in scope."""
        out = []
        for k in kernels:
            out += [Block(self._phase(k), comment=k.doc)] + self._barrier()
        return out

    def learning_variants(self, program: Program) -> bool:
        """Whether the fused kernel comes as two entry points, ``irsnn_run`` with learning on
        and ``irsnn_run_infer`` with it off, instead of one testing ``irsnn_learning``: on
        blocks of several threads, where learning phases end in barriers. A barrier under a
        condition, even a uniform one, is what PoCL handles worst: it replicates the rest of
        the kernel after each such condition (an online e-prop model with ten learning
        phases did not build in an hour), and it miscompiled a time loop under one condition
        around it all (see :func:`~.description.specialise`)."""
        return (self.threads is not None and self.threads > 1
                and mentions(self.time_loop(program) + [
                    Block(list(k.body)) for k in program.prologue + program.epilogue],
                    LEARNING))

    def fused_kernel(self, program: Program, name: str = "irsnn_run",
                     kernels=None, learning: bool | None = None) -> str:
        """A kernel running the prologue, the whole time loop (:meth:`time_loop`) and the
        epilogue for one batch element per work-item (with :attr:`threads`, per block);
        with ``kernels`` (grid ``(b,)``), those once instead (same parameters, so every such
        kernel is launched with the same arguments). With ``learning`` (True or False), the
        learning switch is decided in the source (its argument remains, unread)."""
        B = program.constants["batch_size"]
        params = self.fused_parameters(program)
        work = (self.in_sequence(program.prologue) + self.time_loop(program)
                + self.in_sequence(program.epilogue)
                if kernels is None else self.in_sequence(kernels))
        if learning is not None:
            work = specialise(work, LEARNING, learning)
        if self.threads is None:
            head = [f"const int32_t b = {self.dialect.grid_index.format(dim=0)};"]
        else:
            head = [f"const int32_t b = {self.dialect.block_index};",
                    f"const int32_t irsnn_lid = {self.dialect.thread_index};",
                    "(void)irsnn_lid;"]
        # (a block per batch element: exactly B blocks, and no return before a barrier)
        guard = [f"if (b >= {B}) return;"] if self.threads is None else []
        text = self.statements(head + guard + work, 1)
        if self.threads is not None and any("irsnn_scan[" in line for line in text):
            # local memory is declared at the kernel's outermost scope (OpenCL requires it)
            text.insert(0, f"{self.indent}{self.dialect.local_qualifier} int32_t "
                           f"irsnn_scan[IRSNN_THREADS];")
        sep = ",\n" + " " * (len(self.dialect.kernel_prefix) + len(name) + 2)
        return (f"{self.dialect.kernel_prefix} {name}({sep.join(params)})\n{{\n"
                + "\n".join(text) + "\n}\n")

    @staticmethod
    def fused_parameters(program: Program) -> list[str]:
        """The parameters of the fused kernels: state buffers, extra global parameters,
        recorders (buffer, rows, count, capacity), then the scalars."""
        params = [f"GLOBAL {b.ctype} *RESTRICT {b.name}" for b in program.buffers]
        params += [f"GLOBAL const {b.ctype} *RESTRICT {b.name}" for b in program.egps]
        for k, rec in enumerate(program.recorders):
            params += [f"GLOBAL {rec.ctype} *RESTRICT rec{k}_buf",
                       f"GLOBAL const int32_t *RESTRICT rec{k}_rows", f"int32_t rec{k}_nrows",
                       f"int64_t rec{k}_capacity"]
        return params + ["uint64_t irsnn_seed", "int64_t steps", "int64_t ts0", "uint32_t rng0",
                         "int64_t rec0", "int32_t irsnn_learning"]

    def plan(self, program: Program) -> str:
        """How the fused kernel runs the model, in words (``irsnn dump`` prints it)."""
        if self.threads is None:
            return ("plan: one thread per batch element runs every timestep of its example "
                    "(all phases sequential)")
        phases = [k for k in program.kernels]
        par = [k.label or k.name for k in phases if k.parallel]
        ser = [k.label or k.name for k in phases if not k.parallel]
        rows = [k.label or k.name for k in program.scatter_kernels if self.block_kernel(k)]
        return (f"plan: one work-group of {self.threads} threads per batch element runs every "
                f"timestep of its example in one launch, phases separated by barriers; "
                f"parallel over neurons/synapses: {', '.join(par) or 'none'}; "
                f"on one thread of the group: {', '.join(ser) or 'none'}"
                + ("; learning on and off are two kernels (irsnn_run, irsnn_run_infer)"
                   if self.learning_variants(program) else "")
                + (f"; event-driven gradients at the end of an example: one work-group of "
                   f"{self.threads} threads per presynaptic row, its synapses across the "
                   f"threads ({', '.join(rows)})" if rows else "")
                + "".join(f"; {note}" for note in program.plan_notes))

    def buffer_kernel(self, program: Program, k: Kernel) -> str:
        """Kernel ``k`` (a one-dimensional grid) taking every state buffer as a parameter, for
        dialects with implicit grids (the scatter and optimiser kernels): one grid point per
        thread, or, for a kernel written for a block (:attr:`~.description.Kernel.parallel`)
        on a renderer with :attr:`threads`, one per block (work-group) of ``threads``, its
        parallel loops strided over the block's threads (:meth:`block_kernel`)."""
        (dim,) = k.grid
        params = [f"GLOBAL {b.ctype} *RESTRICT {b.name}" for b in program.buffers]
        if self.block_kernel(k):
            # exactly ``extent`` blocks are launched (no return: barriers stay uniform)
            body = [f"const int32_t {dim.var} = {self.dialect.block_index};",
                    f"const int32_t irsnn_lid = {self.dialect.thread_index};",
                    "(void)irsnn_lid;"] + list(k.body)
        else:
            body = [f"const int32_t {dim.var} = {self.dialect.grid_index.format(dim=0)};",
                    f"if ({dim.var} >= {dim.extent}) return;"] + list(k.body)
        sep = ",\n" + " " * (len(self.dialect.kernel_prefix) + len(k.name) + 2)
        return (f"/* {comment_text(k.doc)} */\n{self.dialect.kernel_prefix} {k.name}"
                f"({sep.join(params)})\n{{\n"
                + "\n".join(self.statements(body, 1)) + "\n}\n")

    def block_kernel(self, k: Kernel) -> bool:
        """Whether :meth:`buffer_kernel` renders ``k`` one grid point per block of
        :attr:`threads` (launched as ``extent`` blocks) rather than one per thread."""
        return self.threads is not None and k.parallel

    def fused_source(self, program: Program, title: str, why: str = "") -> str:
        """Complete source of a fused-kernel target; ``why`` says why its plan was chosen."""
        parts = [f"/* irsnn: model '{comment_text(title)}' (generated) */", self.dialect.header]
        if self.threads is not None:
            parts.append(f"#define IRSNN_THREADS {self.threads}\n")
        plan = self.plan(program) + (f" (chosen: {why})" if why else "")
        parts += [f"/* {comment_text(plan)} */", self.helpers(program)]
        if self.learning_variants(program):
            parts += [self.fused_kernel(program, learning=True),
                      self.fused_kernel(program, "irsnn_run_infer", learning=False)]
        else:
            parts.append(self.fused_kernel(program))
        return "\n".join(parts + self.end_parts(program))

    def end_parts(self, program: Program) -> list[str]:
        """The kernels run between examples and batches: the end of an example (backward
        sweeps, restart), the scatter kernels and the optimiser kernels."""
        parts = []
        if program.end_kernels:
            parts += [self.fused_kernel(program, "irsnn_end_example", program.end_kernels),
                      self.fused_kernel(program, "irsnn_restart", program.restart_kernels)]
            parts += [self.buffer_kernel(program, k) for k in program.scatter_kernels]
        parts += [self.buffer_kernel(program, k) for k in program.optimiser_kernels]
        return parts
