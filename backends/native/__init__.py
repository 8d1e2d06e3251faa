"""Native code: C compiled by the host's C compiler and loaded into this process.

In irsnn "native" means exactly this. The package sits below every backend (the NumPy
reference backend included), so any of them may use it without depending on another backend.

Requires: only the standard library, NumPy and :mod:`irsnn` (``errors``, ``settings``, ``rng``,
``utils.data``); a C compiler is optional. Provides:

- :mod:`~irsnn.backends.native.toolchain`: finding the C compiler (``$CC``, cc, gcc, clang),
  compiling shared libraries and the compiled-artifact cache under the user's cache directory
  (``$XDG_CACHE_HOME/irsnn/c``), keyed by a hash of source, flags, compiler and CPU;
- :mod:`~irsnn.backends.native.rng`: bulk Philox words (:func:`~.rng.philox_words`), equal
  to :mod:`irsnn.rng`'s, for initialising large arrays quickly;
- :mod:`~irsnn.backends.native.schedule`: spike schedules
  (:func:`~.schedule.native_spike_schedule`), equal to :func:`irsnn.utils.data.spike_schedule`.

The helpers return None where no C compiler is available; callers then use NumPy.
"""
