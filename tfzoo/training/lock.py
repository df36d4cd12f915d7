"""One process at a time per output folder: an exclusive ``flock`` on ``FOLDER/.lock``.

A run (and a learning-rate search) holds the lock from the moment it first writes to its folder
until it ends; the file records who holds it (pid, host, start time), so that a second run into
the same folder stops with one line naming the holder instead of interleaving its checkpoints
with the first one's. The kernel releases a ``flock`` when its process dies, kill -9 included,
so a killed run never leaves a stale lock: the next run takes it over. The file is deleted when
the holder ends normally. ``flock`` works across processes of one machine and, on Linux, over NFS
(emulated with byte-range locks); a folder shared by several machines through another network
filesystem may not honour it.
"""

import contextlib
import datetime
import fcntl
import os
import socket
import time
from pathlib import Path

LOCK_FILE = ".lock"
_ATTEMPTS = 20  # a probe (``holder``) holds the lock for microseconds: retry for ~1 s before giving up
_RETRY_SECONDS = 0.05


class FolderInUse(ValueError):
    """Another process holds the folder's lock; the message names it. A bad ``output_dir`` (exit 2)."""


def holder(directory):
    """Who holds ``directory``'s lock ("pid 123 on host h since ..."), or None if nobody does.

    Takes the lock shared for an instant to find out, and writes nothing: a check to run before
    the expensive part of a command (reading the data), so that a busy folder fails at once.
    """
    try:
        fd = os.open(Path(directory) / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # no lock file (or none readable): the acquiring run reports what is wrong
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _record(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def check_free(directory, what="output_dir"):
    """Raises FolderInUse if another process holds ``directory``."""
    found = holder(directory)
    if found is not None:
        raise FolderInUse(_message(directory, found, what))


@contextlib.contextmanager
def hold(directory, what="output_dir"):
    """Holds ``directory``'s lock for the ``with`` block (the folder must exist); FolderInUse if taken."""
    path = Path(directory) / LOCK_FILE
    fd = _acquire(path, directory, what)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # still holding it: a process waiting on this file retries on the new one
        os.close(fd)


def _acquire(path, directory, what):
    for attempt in range(_ATTEMPTS):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            found = _record(fd)
            os.close(fd)
            if attempt + 1 == _ATTEMPTS:
                raise FolderInUse(_message(directory, found, what)) from None
            time.sleep(_RETRY_SECONDS)
            continue
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current != os.fstat(fd).st_ino:  # the holder deleted this file as it ended: lock the new one
            os.close(fd)
            continue
        started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {started}\n".encode())
        return fd
    raise FolderInUse(_message(directory, "another process (its lock file changed on every try)", what))


def _record(fd):
    try:
        text = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0] if text else "another process (it has not recorded its pid yet)"


def _message(directory, found, what):
    return (f"{what} {directory} is in use by another run: {found} ({Path(directory) / LOCK_FILE}); "
            f"wait for it to end, or use another {what}")
