"""RunLock: one training process per run folder, held in a lock file with the owner's pid.

    with RunLock("runs/x"):          # raises FolderLocked(pid) while another process holds it
        trainer.fit()

The lock is ``<folder>/.lock``, holding the owner's pid. It is created whole or not at all:
the pid is written to a private temporary file that is then hard-linked to ``.lock``, which
fails when ``.lock`` exists (where hard links are not supported, ``os.O_EXCL`` creates it).
A lock whose pid is no longer running (the owner was SIGKILLed) is stale: it is taken over.
The lock is released when the ``with`` block ends, whatever ends it (an error, Ctrl-C).
"""

import os
from pathlib import Path

LOCK_NAME = ".lock"


class FolderLocked(Exception):
    """Another live process holds the folder's lock; ``pid`` is its process id."""

    def __init__(self, path, pid):
        self.path, self.pid = Path(path), pid
        super().__init__(f"{self.path.parent} is in use by another training process "
                         f"(pid {pid}, lock file {self.path})")


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    except OSError:
        return False
    return True


def _owner(path):
    """The pid in a lock file; None when it holds none (torn, foreign) or is gone."""
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _create(path, pid):
    """Create ``path`` holding ``pid``, atomically; False when it already exists."""
    tmp = path.with_name(f"{path.name}.tmp{pid}")
    tmp.write_text(f"{pid}\n")
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            f.write(f"{pid}\n")
        return True
    finally:
        tmp.unlink(missing_ok=True)


class RunLock:
    """Hold ``folder/.lock`` for this process (a context manager; see the module docstring).
    ``took_over`` is the pid of the stale lock taken over, if any."""

    def __init__(self, folder):
        self.path = Path(folder) / LOCK_NAME
        self.took_over = None
        self._held = False

    def holder(self):
        """The pid of another live process holding the lock now, else None (reads only)."""
        owner = _owner(self.path)
        return owner if owner is not None and owner != os.getpid() and _alive(owner) else None

    def acquire(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        for _ in range(3):
            if _create(self.path, pid):
                self._held = True
                return self
            owner = _owner(self.path)
            if owner == pid:
                raise FolderLocked(self.path, pid)  # held by this process already
            if owner is not None and _alive(owner):
                raise FolderLocked(self.path, owner)
            self.took_over = owner
            self.path.unlink(missing_ok=True)
        raise FolderLocked(self.path, _owner(self.path))

    def release(self):
        if self._held and _owner(self.path) == os.getpid():
            self.path.unlink(missing_ok=True)
        self._held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
