"""The C translation unit of a model: kernels, buffer bindings and the time loop in C.

Requires: a built :class:`~backends.kernels.Program` and the C dialect of
:class:`~backends.kernels.KernelRenderer`. Provides :func:`c_source` (the whole translation
unit: kernels, ``irsnn_bind``, ``irsnn_run`` and the other entry points), :data:`API_VERSION`
(checked when the library is loaded) and :func:`step_params` (a per-step kernel's parameters).
"""

from __future__ import annotations

from ..kernels import C_KERNELS, For, KernelRenderer, Program
from ..kernels.render import NARROW_GATHERS, comment_text

API_VERSION = 2


def step_params(program: Program, kernel) -> str:
    """The parameters of a per-step kernel after the batch element: the clock and RNG step
    (``program.step_args``) and the kernel's own."""
    return ", ".join(f"{t} {n}" for t, n in tuple(program.step_args) + tuple(kernel.args))


def c_source(program: Program, name: str, profile: bool) -> str:
    """Complete C99 source for ``program``.

    Exported functions (all ``extern``):

    ``irsnn_bind(void **buffers, uint64_t seed)``
        buffer pointers in ``program.buffers`` order, and the RNG seed;
    ``irsnn_bind_egp(int32_t k, void *ptr)``
        extra global parameter ``k`` of ``program.egps``;
    ``irsnn_bind_recorder(int32_t k, void *buf, const int32_t *rows, int32_t nrows, int64_t cap)``
        recording buffer ``k`` of ``program.recorders`` (``buf`` NULL disables it);
    ``irsnn_run(int64_t steps, int64_t ts0, uint32_t rng0, int64_t rec0)``
        advance ``steps`` timesteps starting at clock ``ts0``, RNG step ``rng0`` and
        recording row ``rec0``: the whole loop runs here, no call back into Python;
    ``irsnn_set_learning(int on)``
        run the learning kernels (loss, feedback, traces, synapse learning) or skip them;
    ``irsnn_end_example(int materialise)``
        the end of an example of event-driven learning: backward sweeps, then with
        ``materialise`` the gradient scatter and the restart;
    ``irsnn_optimise(int fused)``
        one optimiser step of every parameter (``optim_scalars`` and ``optim_rows`` set); with
        ``fused``, event-driven gradients come straight from the spike bits and backward
        sequences of the example just ended (not materialised), then the restart;
    ``irsnn_kernel_times(double *out)``
        accumulated seconds per per-step kernel (zeros unless compiled with profiling), then
        the end-of-example work (a run's prologue and epilogue are not timed).
    """
    r = KernelRenderer(C_KERNELS)
    lines = [f"/* irsnn C backend: model '{comment_text(name)}' (generated; API {API_VERSION}) */",
             "#define _POSIX_C_SOURCE 199309L", C_KERNELS.lang.prelude, "#include <stddef.h>",
             "#define GLOBAL",
             "#include <time.h>", program.helpers, r.intrinsics(),
             f"#define IRSNN_PROFILE {1 if profile else 0}",
             "#define IRSNN_NOINLINE __attribute__((noinline))", NARROW_GATHERS,
             "static uint64_t irsnn_seed;", "static int irsnn_learning;",
             r.buffer_declarations(program)]
    for k, rec in enumerate(program.recorders):
        lines.append(f"static {rec.ctype} *rec{k}_buf; static const int32_t *rec{k}_rows; "
                     f"static int32_t rec{k}_nrows; static int64_t rec{k}_capacity;")
    kernels = program.kernels
    for k in kernels:
        if tuple(d.var for d in k.grid) != ("b",):
            raise ValueError(f"kernel {k.name} has grid {k.grid}; the time loop needs (b,)")
    # Every per-step kernel as its own function of one batch element, kept out of line: the
    # time loop below calls them in order. Inlined into one function, the kernels' live
    # pointers exceeded the registers and GCC spilled them inside the inner loops (the
    # synapse-row scatter ran ~11 instructions per synaptic event instead of ~5).
    # (the prologue and epilogue likewise, as functions of the batch element only)
    def out_of_line(k, params):
        return (f"/* {comment_text(k.doc)} */\n{r.function_prefix(k)} IRSNN_NOINLINE "
                f"{k.name}({params})\n{{\n" + "\n".join(r.statements(k.body, 1)) + "\n}\n")

    lines += [out_of_line(k, f"int32_t b, {step_params(program, k)}") for k in kernels]
    lines += [out_of_line(k, "int32_t b") for k in program.prologue + program.epilogue]
    # one slot per kernel, and the last for the end-of-example work
    lines.append(f"static double irsnn_times[{len(kernels) + 1}];")
    lines.append("""
static double irsnn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
""")
    bind = ["void irsnn_bind(void **buffers, uint64_t seed)", "{", "    irsnn_seed = seed;"]
    bind += [f"    {b.name} = ({b.ctype} *)buffers[{i}];"
             for i, b in enumerate(program.buffers)]
    bind += ["}", "", "void irsnn_bind_egp(int32_t k, void *ptr)", "{", "    switch (k) {"]
    bind += [f"    case {i}: {b.name} = ({b.ctype} *)ptr; break;"
             for i, b in enumerate(program.egps)]
    bind += ["    default: break;", "    }", "}", "",
             "void irsnn_bind_recorder(int32_t k, void *buf, const int32_t *rows, "
             "int32_t nrows, int64_t cap)", "{", "    switch (k) {"]
    bind += [f"    case {k}: rec{k}_buf = ({rec.ctype} *)buf; rec{k}_rows = rows; "
             f"rec{k}_nrows = nrows; rec{k}_capacity = cap; break;"
             for k, rec in enumerate(program.recorders)]
    bind += ["    default: break;", "    }", "}", "",
             "void irsnn_set_learning(int on) { irsnn_learning = on; }", ""]
    lines.append("\n".join(bind))
    # Without profiling: one parallel region per call, each thread running whole time loops
    # of its batch elements (no synchronisation per kernel and step)
    batch = program.constants["batch_size"]
    run = []
    for name, part in (("prologue", program.prologue), ("epilogue", program.epilogue)):
        run += [f"static void irsnn_{name}_one(int32_t b)", "{", "    (void)b;"]
        run += [f"    {k.name}(b);" for k in part]
        run += ["}", ""]
    run += ["static void irsnn_run_one(int32_t b, int64_t steps, int64_t ts0, uint32_t rng0, "
            "int64_t rec0)", "{", "    irsnn_prologue_one(b);"]
    step = ["const int64_t ts = ts0 + k;", program.time_declaration(),
            "const uint32_t rng_step = rng0 + (uint32_t)k;"]
    calls = [f"{'if (irsnn_learning) ' if kern.learning else ''}{kern.name}(b, "
             f"{', '.join(['ts', 't', 'rng_step'] + (['rec0 + k'] if kern.args else []))});"
             for kern in kernels]
    run += r.statements([For("k", "steps", step + calls, type="int64_t")], 1)
    run += ["    irsnn_epilogue_one(b);", "}", "",
            "int irsnn_run(int64_t steps, int64_t ts0, uint32_t rng0, int64_t rec0)", "{",
            "#if !IRSNN_PROFILE",
            ("    #pragma omp parallel for schedule(static)" if batch > 1 else ""),
            f"    for (int32_t b = 0; b < {batch}; b++) irsnn_run_one(b, steps, ts0, rng0, rec0);",
            "#else",  # profiling: kernel by kernel over the batch, each timed
            f"    for (int32_t b = 0; b < {batch}; b++) irsnn_prologue_one(b);",
            "    for (int64_t k = 0; k < steps; k++) {"]
    run += r.statements(step, 2)
    for i, call in enumerate(calls):
        run += ["        { const double _t0 = irsnn_now();"]
        run += ["        #pragma omp parallel for schedule(static)"] if batch > 1 else []
        run += [f"        for (int32_t b = 0; b < {batch}; b++) {call}",
                f"        irsnn_times[{i}] += irsnn_now() - _t0; }}"]
    run += ["    }", f"    for (int32_t b = 0; b < {batch}; b++) irsnn_epilogue_one(b);",
            "#endif", "    return 0;", "}", ""]
    # end of an example: backward sweeps, then (materialise) scatter + restart
    for name, part in (("sweep", program.end_kernels), ("restart", program.restart_kernels)):
        run += [f"static void irsnn_{name}_one(int32_t b)", "{", "    (void)b;"]
        run += r.statements(r.in_sequence(part), 1)
        run += ["}", ""]
    omp = "#pragma omp parallel for schedule(static)" if batch > 1 else ""
    rows = {k.name: k for k in program.optimiser_kernels + program.fused_optimiser_kernels}
    run += [r.kernel(k, ()) for k in program.scatter_kernels + list(rows.values())]
    run += ["int irsnn_end_example(int materialise)", "{",
            "    const double _t0 = irsnn_now();", "    " + omp,
            f"    for (int32_t b = 0; b < {batch}; b++) irsnn_sweep_one(b);",
            "    if (materialise) {"]
    run += [f"        {k.name}();" for k in program.scatter_kernels]
    run += ["        " + omp,
            f"        for (int32_t b = 0; b < {batch}; b++) irsnn_restart_one(b);", "    }",
            f"    irsnn_times[{len(kernels)}] += irsnn_now() - _t0;",
            "    return 0;", "}", ""]
    run += ["int irsnn_optimise(int fused)", "{", "    if (fused) {"]
    run += [f"        {k.name}();" for k in program.fused_optimiser_kernels]
    run += ["        " + omp,
            f"        for (int32_t b = 0; b < {batch}; b++) irsnn_restart_one(b);",
            "    } else {"]
    run += [f"        {k.name}();" for k in program.optimiser_kernels]
    run += ["    }", "    return 0;", "}", "",
            "void irsnn_kernel_times(double *out)", "{",
            f"    for (int i = 0; i <= {len(kernels)}; i++) out[i] = irsnn_times[i];", "}",
            "", f"int irsnn_api_version(void) {{ return {API_VERSION}; }}"]
    lines.append("\n".join(run))
    return "\n".join(lines) + "\n"
