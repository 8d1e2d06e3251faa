"""OpenCL C: the same kernels as C, rendered with OpenCL's qualifiers, types and functions
(work-groups, barriers, local memory and a compare-and-swap float atomic for the SIMT plan).

Requires: :mod:`irsnn.lang.render_c` (the C helpers, dialect and double-precision
function names) and :class:`~backends.kernels.KernelDialect`. Provides :data:`OPENCL_LANG`
(model code's language dialect) and :data:`OPENCL_KERNELS` (the kernel dialect).
"""

from irsnn.lang.render_c import C_HELPERS, C_MINMAX, Dialect, c_double_names, minmax_names

from ..kernels import KernelDialect

_HEADER = """\
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL FP_CONTRACT OFF
typedef char int8_t;
typedef uchar uint8_t;
typedef int int32_t;
typedef uint uint32_t;
typedef long int64_t;
typedef ulong uint64_t;
#define GLOBAL __global
#define RESTRICT restrict
/* float add to global memory that other work-items may update too */
/* (OpenCL 1.2 has no float atomics: a compare-and-swap loop on the bits) */
inline void irsnn_atomic_add(volatile __global float *p, float v)
{
    union { uint u; float f; } seen, next;
    do {
        seen.f = *p;
        next.f = seen.f + v;
    } while (atomic_cmpxchg((volatile __global uint *)p, seen.u, next.u) != seen.u);
}
"""

#: OpenCL C model code: math functions are overloaded on the argument type (exp, not expf);
#: fmax/fmin as the other dialects compute them (OpenCL's own leave a zero's sign open)
OPENCL_LANG = Dialect(float_functions=minmax_names(c_double_names(), "f"),
                      double_functions=minmax_names(c_double_names(), ""),
                      prelude=C_HELPERS + C_MINMAX)

#: One fused kernel per model: one work-item per batch element, or (SIMT plan) one work-group
OPENCL_KERNELS = KernelDialect(lang=OPENCL_LANG, kernel_prefix="__kernel void",
                               global_qualifier="__global", parallel_pragma="",
                               grid_index="(int32_t)get_global_id({dim})",
                               atomic_add="irsnn_atomic_add(&({target}), {value});", prefetch="",
                               count_trailing_zeros="31 - clz({x} & (0u - {x}))",
                               bit_lanes=False, flag_words=False, narrow_gathers="",
                               header=_HEADER, block_index="(int32_t)get_group_id(0)",
                               thread_index="(int32_t)get_local_id(0)",
                               barrier="barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);",
                               local_qualifier="__local")
