"""Run one code block on arrays of lanes with the NumPy reference and with C (compiled by the
system compiler with the C backend's floating-point flags), for the language's
cross-backend tests (integer rules, loop bound, nesting limits, float agreement, fuzzing)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from irsnn.lang import (C99, CStyleRenderer, Scope, Symbol, Where, check, compile_numpy,
                        parse_statements)
from irsnn.lang.types import TYPES, resolve_type

#: the lane variables every block may use: name -> type
LANE_VARS = {"a": "int", "b": "int", "c": "int", "u": "unsigned int", "v": "unsigned int",
             "x": "float", "y": "float", "z": "float", "d": "double", "f": "bool"}
#: the C backend's floating-point flags (backends/native/toolchain.py): no contraction, no
#: fast-math; -O2 keeps vectorisation on
CFLAGS = ("-std=c99", "-O2", "-march=native", "-ffp-contract=off", "-fno-math-errno",
          "-fPIC", "-shared")


def lane_scope(precision="float"):
    """A scope of :data:`LANE_VARS` (writable variables) with the math functions."""
    return Scope([Symbol(n, t, "var", writable=True) for n, t in LANE_VARS.items()],
                 precision=precision).with_math()


def checked_block(code, precision="float", where=None):
    """Parse and check ``code`` against :func:`lane_scope`."""
    where = where or Where("Model 'lanes'", "sim_code")
    return check(parse_statements(code, where), lane_scope(precision), where, code)


def c_function(checked, fname, renderer=None):
    """C source of ``void fname(int n, int32_t *irsnn_status, <one pointer per lane
    variable>)`` running the block on every lane (``irsnn_status[0]``: the loops' status
    word)."""
    r = renderer or CStyleRenderer(C99)
    body = r.render_statements(checked.tree, checked, lambda sym: "l_" + sym.name, level=2)
    ct = {n: TYPES[resolve_type(t)].c_name for n, t in LANE_VARS.items()}
    params = ", ".join(f"{ct[n]} *p_{n}" for n in LANE_VARS)
    loads = "".join(f"        {ct[n]} l_{n} = p_{n}[i]; (void)l_{n};\n" for n in LANE_VARS)
    stores = "".join(f"        p_{n}[i] = l_{n};\n" for n in LANE_VARS)
    return (f"void {fname}(int n, int32_t *irsnn_status, {params})\n{{\n"
            "    for (int i = 0; i < n; i++) {\n"
            f"{loads}        {{\n{body}        }}\n{stores}    }}\n}}\n")


def build_c(functions, prelude=None):
    """Compile C functions (text) with :data:`CFLAGS` into a loaded library; None without a C
    compiler."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return None
    d = Path(tempfile.mkdtemp(prefix="irsnn-lanes-"))
    src, lib = d / "lanes.c", d / "lanes.so"
    src.write_text((C99.prelude if prelude is None else prelude) + "\n"
                   + "\n".join(functions))
    res = subprocess.run([cc, *CFLAGS, "-o", str(lib), str(src), "-lm"], capture_output=True,
                         text=True)
    if res.returncode != 0:
        raise AssertionError(f"C build failed:\n{res.stderr}\n{src.read_text()}")
    return ctypes.CDLL(str(lib))


def lane_arrays(env, n):
    """Contiguous arrays (one per lane variable, the variable's dtype) from ``env``."""
    out = {}
    for name, t in LANE_VARS.items():
        dt = TYPES[resolve_type(t)].dtype
        out[name] = np.ascontiguousarray(np.broadcast_to(np.asarray(env.get(name, 0), dt),
                                                         (n,)).astype(dt))
    return out


def run_c(lib, fname, arrays, status=None):
    """Run ``fname`` of ``lib`` on copies of ``arrays`` and return them; ``status``, a
    one-element int32 array, receives the loops' status word."""
    out = {k: v.copy() for k, v in arrays.items()}
    n = len(next(iter(out.values())))
    status = np.zeros(1, np.int32) if status is None else status
    getattr(lib, fname)(ctypes.c_int(n), status.ctypes.data_as(ctypes.c_void_p),
                        *[out[k].ctypes.data_as(ctypes.c_void_p) for k in LANE_VARS])
    return out


def run_numpy(checked, arrays):
    """Run the block with the NumPy reference on copies of ``arrays`` and return them."""
    env = {k: v.copy() for k, v in arrays.items()}
    compile_numpy(checked).run(env)
    n = len(next(iter(arrays.values())))
    return {k: np.broadcast_to(np.asarray(env[k], arrays[k].dtype), (n,)) for k in arrays}


def same_bits(p, q):
    """True when two arrays of one dtype hold the same bits."""
    return p.dtype == q.dtype and np.array_equal(np.ascontiguousarray(p).view(np.uint8),
                                                 np.ascontiguousarray(q).view(np.uint8))


def _child(queue, fn, args):
    try:
        queue.put(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as it is
        queue.put(("raised", f"{type(exc).__name__}: {exc}"))


def in_child(fn, *args, timeout=120.0):
    """``fn(*args)`` in a forked child process: its result, or an AssertionError when the
    child died by a signal or did not finish within ``timeout`` seconds (C that traps or
    hangs must fail a test, not take the test run with it). An exception in the child is
    returned as ``("raised", "Type: message")``; a result as ``("ok", result)``."""
    import multiprocessing
    import queue as queues

    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q, fn, args))
    p.start()
    try:
        out = q.get(timeout=timeout)
    except queues.Empty:
        p.kill()
        p.join()
        raise AssertionError(f"the child running {fn.__name__} did not finish in {timeout} s "
                             f"(exit code {p.exitcode})") from None
    p.join()
    return out


def _kernel_source(blocks, dialect, prefix, qualifier):
    """One kernel ``k`` whose argument ``which`` picks the checked block of ``blocks`` it runs
    on lane ``i`` (a work-item / thread), after ``dialect``'s header and model-code helpers
    (one kernel: PoCL compiles each kernel separately, and slowly)."""
    lang = dialect.lang
    ct = {n: TYPES[resolve_type(t)].c_name for n, t in LANE_VARS.items()}
    params = ", ".join([f"{qualifier}int32_t *irsnn_status", "int32_t n", "int32_t which"]
                       + [f"{qualifier}{ct[n]} *p_{n}" for n in LANE_VARS])
    loads = "".join(f"    {ct[n]} l_{n} = p_{n}[i]; (void)l_{n};\n" for n in LANE_VARS)
    stores = "".join(f"    p_{n}[i] = l_{n};\n" for n in LANE_VARS)
    prelude = "\n".join(line for line in lang.prelude.splitlines()
                        if not line.startswith("#include"))
    prelude = prelude.replace("static inline", lang.function_qualifier)
    index = dialect.grid_index.format(dim=0)
    r = CStyleRenderer(lang)
    cases = []
    for k, checked in enumerate(blocks):
        body = r.render_statements(checked.tree, checked, lambda sym: "l_" + sym.name, level=2)
        cases.append(f"    case {k}: {{\n{body}    }} break;\n")
    return (f"{dialect.header}\n{prelude}\n{prefix} k({params})\n{{\n"
            f"    const int32_t i = {index};\n    if (i >= n) return;\n{loads}"
            f"    switch (which) {{\n{''.join(cases)}    default: break;\n    }}\n{stores}}}\n")


def opencl_source(blocks):
    """OpenCL C of kernel ``k`` running one of ``blocks`` (the OpenCL backend's dialect)."""
    from irsnn.backends.opencl.dialect import OPENCL_KERNELS as K
    return _kernel_source(blocks, K, "__kernel void", "__global ")


def cuda_source(blocks):
    """CUDA C++ of kernel ``k`` running one of ``blocks`` (the CUDA backend's dialect)."""
    from irsnn.backends.cuda.dialect import CUDA_KERNELS as K
    return _kernel_source(blocks, K, 'extern "C" __global__ void', "")


def opencl_device():
    """The OpenCL device the backend would use, or None (with pyopencl missing or no usable
    device)."""
    from irsnn.backends import available_backends
    ok, _ = available_backends().get("opencl", (False, ""))
    if not ok:
        return None
    from irsnn.backends.opencl import choose_device
    return choose_device()


def run_opencl(device, blocks, arrays):
    """Build ``blocks`` as one program for ``device`` and run each on copies of ``arrays``;
    returns ``[(outputs, status)]`` in block order."""
    import pyopencl as cl
    ctx = cl.Context([device])
    queue = cl.CommandQueue(ctx)
    prog = cl.Program(ctx, opencl_source(blocks)).build()
    results = []
    mf = cl.mem_flags
    for k in range(len(blocks)):
        out = {name: v.copy() for name, v in arrays.items()}
        n = len(next(iter(out.values())))
        hosts = [np.zeros(1, np.int32)] + [out[name] for name in LANE_VARS]
        bufs = [cl.Buffer(ctx, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=a) for a in hosts]
        prog.k(queue, (n,), None, bufs[0], np.int32(n), np.int32(k), *bufs[1:])
        for host, buf in zip(hosts, bufs):
            cl.enqueue_copy(queue, host, buf)
        queue.finish()
        results.append((out, int(hosts[0][0])))
    return results
