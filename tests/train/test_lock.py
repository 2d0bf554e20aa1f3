"""RunLock: one process per run folder; stale locks taken over; released however it ends."""

import subprocess
import sys

import pytest

from gradkit.train.lock import FolderLocked, RunLock


def test_a_second_holder_is_refused_with_the_owners_pid(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom gradkit.train.lock import RunLock\n"
         f"RunLock({str(tmp_path)!r}).acquire()\nprint('held', flush=True)\ntime.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "held\n"
        with pytest.raises(FolderLocked, match=f"in use by another training process "
                                               f"\\(pid {child.pid}, lock file") as info:
            RunLock(tmp_path).acquire()
        assert info.value.pid == child.pid
    finally:
        child.kill()
        child.wait()
    with RunLock(tmp_path) as lock:  # the child died holding it: stale, taken over
        assert lock.took_over == child.pid
        assert (tmp_path / ".lock").read_text().strip().isdigit()
    assert not (tmp_path / ".lock").exists()


def test_the_lock_is_released_when_the_block_raises(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with RunLock(tmp_path):
            raise KeyboardInterrupt
    assert not (tmp_path / ".lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_torn_lock_file_is_stale(tmp_path):
    (tmp_path / ".lock").write_text("")
    with RunLock(tmp_path) as lock:
        assert lock.took_over is None
    assert not (tmp_path / ".lock").exists()


def test_the_same_process_cannot_take_it_twice(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(FolderLocked):
            RunLock(tmp_path).acquire()
        assert (tmp_path / ".lock").exists()


def test_holder_reads_without_taking(tmp_path):
    lock = RunLock(tmp_path)
    assert lock.holder() is None
    (tmp_path / ".lock").write_text("1\n")  # pid 1 is always alive
    assert lock.holder() == 1 and (tmp_path / ".lock").read_text() == "1\n"
