"""An exclusive lock on a folder (its ``.lock`` file), so that two runs never write the same
output or state folder. The operating system releases it when the process dies, however it dies."""
from __future__ import annotations

import fcntl
import os
import platform

from ..errors import RunError


class FolderLock:
    def __init__(self, folder: str, what: str):
        self.path = os.path.join(folder, ".lock")
        self.what = what             # "output folder", "state folder": for the message
        self.fh = None

    def __enter__(self) -> "FolderLock":
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "another process"
            self.fh.close()
            raise RunError(f"{self.what} {os.path.dirname(self.path)} is in use by {holder}; "
                           "wait for it to finish") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()} on {platform.node()}\n")
        self.fh.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self.fh:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
