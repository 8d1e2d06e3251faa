"""The callback base class: hooks called by compiled networks during evaluation and training.

Requires: nothing. Provides :class:`Callback` (mlGeNN's ``Callback``), whose no-op hooks
(``on_test_begin``, ``on_epoch_end``, ``on_batch_begin``, ...) subclasses override.
"""


class Callback:
    """Base class of callbacks (mlGeNN's hooks).

    Compiled networks call :meth:`set_params` once, then the hooks in this order:
    ``on_test_begin`` (evaluation) or ``on_epoch_begin`` (training), ``on_batch_begin``,
    ``on_timestep_begin``/``on_timestep_end`` (only when a callback overrides them: the model
    then advances one timestep per call), ``on_batch_end``, ``on_epoch_end``/``on_test_end``.
    A callback that returns data implements :meth:`get_data` returning ``(key, data)``; it
    appears in ``cb_data[key]``.

    In a data-parallel job (a compiler with a ``communicator``), callbacks whose class sets
    :attr:`root_only` (those that write: checkpoints, progress bars) run on rank 0 only, unless
    the object's ``all_ranks`` attribute is true.
    """

    #: runs only on rank 0 of a data-parallel job (it writes files or to the terminal)
    root_only = False
    #: set on an object to run a ``root_only`` callback on every rank
    all_ranks = False

    def set_params(self, **kwargs):
        """Receive ``data`` (a dict shared by the callbacks of one run, where a callback may
        keep what it records, as mlGeNN's do), ``compiled_network``, ``num_batches``,
        ``num_epochs`` and ``batch_size``, all as keywords."""

    def on_test_begin(self):
        """Evaluation starts."""

    def on_test_end(self, metrics):
        """Evaluation ended; ``metrics`` maps outputs to :class:`~irsnn.metrics.Metric`."""

    def on_train_begin(self):
        """Training starts."""

    def on_train_end(self, metrics):
        """Training ended."""

    def on_epoch_begin(self, epoch):
        """An epoch starts."""

    def on_epoch_end(self, epoch, metrics):
        """An epoch ended."""

    def on_batch_begin(self, batch):
        """A batch starts (inputs are already set)."""

    def on_batch_end(self, batch, metrics):
        """A batch ended (metrics updated, recordings readable)."""

    def on_timestep_begin(self, timestep):
        """A timestep starts (only called when overridden)."""

    def on_timestep_end(self, timestep):
        """A timestep ended (only called when overridden)."""

    def recording_requests(self):
        """Recordings this callback may need: ``("spikes", pop)`` or ``("var", pop, var)``.

        They are compiled into the model (``insert-recording``) before the first batch.
        """
        return ()

    def batch_recordings(self, batch, num_examples):
        """``[(request, rows)]``: the batch rows (examples) to record in batch ``batch``."""
        return []
