"""CUDA C++ (NVRTC): the same kernels as C, rendered with CUDA's qualifiers and thread index.

Requires: :mod:`irsnn.lang.render_c` (the C helpers and
:class:`~irsnn.lang.render_c.Dialect`) and :class:`~backends.kernels.KernelDialect`. Provides
:data:`CUDA_LANG` (model code's language dialect) and :data:`CUDA_KERNELS` (the kernel dialect).
"""

from irsnn.lang.render_c import (C_HELPERS, C_MINMAX, Dialect, c_double_names, c_float_names,
                                 minmax_names)

from ..kernels import KernelDialect

# NVRTC has no standard headers: there the types and INFINITY come from here; nvcc (which
# defines no __CUDACC_RTC__) takes them from the C headers, whose int64_t is ``long``, so the
# same file compiles with both (``irsnn dump --emit-kernels`` writes it for either)
_HEADER = """\
#ifdef __CUDACC_RTC__
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
#define INFINITY __int_as_float(0x7f800000)
#else
#include <stdint.h>
#include <math.h>
#endif
#define GLOBAL
#define RESTRICT __restrict__
"""

#: CUDA model code: C99 float math names (expf, ...) exist as device functions
# (external linkage: unused helpers draw no warning, and NVRTC compiles one translation unit)
# fmax/fmin as the other dialects compute them (CUDA's own leave a zero's sign open)
CUDA_LANG = Dialect(float_functions=minmax_names(c_float_names(), "f"),
                    double_functions=minmax_names(c_double_names(), ""),
                    prelude=C_HELPERS + C_MINMAX, function_qualifier="__device__ inline")

#: One fused kernel per model: one thread per batch element, or (SIMT plan) one block
CUDA_KERNELS = KernelDialect(lang=CUDA_LANG, kernel_prefix='extern "C" __global__ void',
                             parallel_pragma="",
                             grid_index="(int32_t)(blockIdx.x * blockDim.x + threadIdx.x)",
                             atomic_add="atomicAdd(&({target}), {value});",
                             prefetch="", count_trailing_zeros="__ffs((int){x}) - 1",
                             bit_lanes=False, flag_words=False, narrow_gathers="",
                             header=_HEADER, block_index="(int32_t)blockIdx.x",
                             thread_index="(int32_t)threadIdx.x", barrier="__syncthreads();",
                             local_qualifier="__shared__")
