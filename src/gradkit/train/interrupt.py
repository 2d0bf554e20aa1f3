"""Ctrl-C and SIGTERM during training: finish the step, write ``last``, exit cleanly.

While ``fit()`` runs, a SignalCatcher turns the first SIGINT/SIGTERM into a flag that the
Trainer checks after every step and every epoch; it then writes the ``last`` checkpoint and
raises TrainingInterrupted. A second signal raises KeyboardInterrupt at once. Handlers can
only be installed from the main thread; elsewhere signals keep their default behaviour.
"""

import signal
import sys
import threading


class TrainingInterrupted(SystemExit):
    """Raised by ``fit()`` after SIGINT or SIGTERM, once the ``last`` checkpoint is written.

    A SystemExit (code 128 + signal number), so a script ends quietly with the conventional
    status; ``checkpoint`` is the path written (None without a run folder)."""

    def __init__(self, signum, checkpoint, message):
        super().__init__(128 + signum)
        self.signal = signal.Signals(signum).name
        self.checkpoint = checkpoint
        self.message = message

    def __str__(self):
        return self.message


class SignalCatcher:
    """A context manager that records SIGINT/SIGTERM in ``caught`` instead of stopping."""

    def __init__(self):
        self.caught = None
        self._previous = {}

    def __enter__(self):
        self.caught = None
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                try:
                    self._previous[signum] = signal.signal(signum, self._handle)
                except (ValueError, OSError):
                    pass
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum, frame):
        if self.caught is not None:
            raise KeyboardInterrupt
        self.caught = signum
        print(f"\n{signal.Signals(signum).name}: finishing this step and writing a checkpoint "
              "(press Ctrl-C again to abort at once)", file=sys.stderr, flush=True)

    def pop(self):
        """The signal caught since the last call (or None), clearing it."""
        signum, self.caught = self.caught, None
        return signum
