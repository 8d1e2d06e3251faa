"""A tqdm progress bar over batches.

Requires: tqdm and :class:`~.callback.Callback`. Provides :class:`BatchProgressBar`
(mlGeNN's), the default callback of ``evaluate``, ``predict`` and ``train``.
"""

from tqdm.auto import tqdm

from .callback import Callback


class BatchProgressBar(Callback):
    """Show progress over the batches of an evaluation or of each training epoch, with the
    current metrics as the postfix."""

    root_only = True

    def __init__(self):
        self._bar = None
        self._num_batches = None

    def set_params(self, num_batches=None, **kwargs):
        self._num_batches = num_batches

    def _open(self, desc):
        self._close()
        self._bar = tqdm(total=self._num_batches, desc=desc, leave=True)

    def _close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_test_begin(self):
        self._open("Evaluate")

    def on_epoch_begin(self, epoch):
        self._open(f"Epoch {epoch}")

    def on_batch_end(self, batch, metrics):
        if self._bar is None:
            return
        shown = [(k, m) for k, m in metrics.items() if m.result is not None]
        self._bar.set_postfix_str(", ".join(f"{_name(k, m, len(shown))}: {m.result:.4f}"
                                            for k, m in shown))
        self._bar.update(1)

    def on_test_end(self, metrics):
        self._close()

    def on_epoch_end(self, epoch, metrics):
        self._close()


def _name(key, metric, count):
    """The metric's class name (``SparseCategoricalAccuracy``), as mlGeNN shows it; with
    several outputs prefixed by the output's name so their metrics can be told apart."""
    label = type(metric).__name__
    if count == 1:
        return label
    pop = getattr(key, "population", None)
    pop = pop() if callable(pop) else pop
    return f"{getattr(pop, 'name', None) or getattr(key, 'name', key)} {label}"
