"""What a run folder holds, which checkpoint continues it, and the ``runs/latest`` link.

    check_name("lenet5-mnist5k")        # ValueError for "/tmp/x", "a/b", ".."
    kind = folder_kind(path)            # "absent", "empty", "run", "dead" or "foreign"
    path = resume_checkpoint(path)      # last.safetensors, else the newest whole top-k one
    update_latest(Path("runs"), path)   # runs/latest -> <name>, replaced atomically

A run folder holds only files a run writes (``RUN_FILES``). It is a "run" once it has a
checkpoint, "dead" when a run started there but stopped before its first checkpoint (it
has ``config.yaml`` or ``metrics.jsonl`` but no checkpoint: it can only restart from
scratch), "foreign" when it holds anything else and no run (training there could overwrite
someone's files, so it is refused).
"""

import os
import re
from pathlib import Path

from gradkit.train.checkpoint import CheckpointError, checkpoint_info
from gradkit.train.lock import LOCK_NAME

RUN_FILES = {"config.yaml", "metrics.jsonl", "results.json", "report.html", "checkpoints",
             "metrics.csv", "tensorboard", LOCK_NAME}
_TMP = re.compile(r"^\..+\.tmp(\d+)$")


def check_name(name):
    """Raise ValueError unless ``name`` is one plain folder name (no separators, no ..)."""
    if not name or name in (".", "..") or os.path.isabs(name) or "/" in name or \
            "\\" in name or ".." in Path(name).parts or name.startswith("~"):
        raise ValueError(f"a run name is one folder name under runs/, like "
                         f"'lenet5-mnist5k'; got {name!r} (to write elsewhere, use out)")


def checkpoints(folder):
    """The checkpoint files of a run folder, ``last`` first, then the newest by mtime."""
    folder = Path(folder) / "checkpoints"
    if not folder.is_dir():
        return []
    files = sorted((p for p in folder.glob("*.safetensors") if p.name != "last.safetensors"),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    last = folder / "last.safetensors"
    return ([last] if last.exists() else []) + files


def resume_checkpoint(folder, log=None):
    """The checkpoint a resume starts from: ``last.safetensors`` when it is whole, else the
    whole one with the most steps; None when there is none. ``log`` hears about a fallback."""
    found = []
    for path in checkpoints(folder):
        try:
            info = checkpoint_info(path)
        except CheckpointError as err:
            if log is not None:
                log(f"skipping {path.name}: {err}")
            continue
        if "trainer" not in (info["extra"] or {}):
            continue
        if path.name == "last.safetensors":
            return path
        found.append((info["step"] or 0, path.stat().st_mtime, path))
    if not found:
        return None
    best = max(found)[2]
    if log is not None:
        log(f"no usable last.safetensors: resuming from {best.name}")
    return best


def folder_kind(folder):
    """"absent", "empty", "run" (has a checkpoint), "dead" (a run that stopped before its
    first checkpoint) or "foreign" (other files, no run)."""
    folder = Path(folder)
    if not folder.exists():
        return "absent"
    if not folder.is_dir():
        return "foreign"
    names = {p.name for p in folder.iterdir()}
    if not names - {LOCK_NAME}:
        return "empty"
    if checkpoints(folder):
        return "run"
    if names & {"config.yaml", "metrics.jsonl"} and names <= RUN_FILES:
        return "dead"
    return "foreign"


def clean_orphans(folder):
    """Remove temporary files of atomic writes (``.<name>.tmp<pid>``: checkpoints,
    config.yaml) whose writer is gone; returns their names."""
    removed = []
    for where in (Path(folder), Path(folder) / "checkpoints"):
        for path in where.glob(".*.tmp*") if where.is_dir() else ():
            match = _TMP.match(path.name)
            if match and path.is_file() and not _running(int(match.group(1))):
                path.unlink(missing_ok=True)
                removed.append(path.name)
    return removed


def _running(pid):
    if pid == os.getpid():
        return False  # this process writes no checkpoint while it starts a run
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def update_latest(root, run_dir):
    """Point ``root/latest`` at ``run_dir`` (a relative symlink, replaced atomically);
    returns the link, or None where symlinks cannot be made (nothing else is touched)."""
    root, run_dir = Path(root), Path(run_dir)
    link = root / "latest"
    if link.exists() and not link.is_symlink():
        return None  # a real folder named latest is someone's; leave it
    tmp = root / f".latest.tmp{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        target = os.path.relpath(run_dir.resolve(), root.resolve())  # through runs/latest too
        os.symlink(target, tmp, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        return None
    return link
