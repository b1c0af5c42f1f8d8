"""Bytes of memory the dedup barrier can use now: the machine's, or a cgroup's limit when lower."""
from __future__ import annotations

import os


def available_memory(proc: str = "/proc", cgroup_root: str = "/sys/fs/cgroup") -> int | None:
    """Bytes of memory this process can still get now: the machine's ``MemAvailable``, or less
    when a cgroup above the process (a systemd ``MemoryMax=``, a container, a batch scheduler)
    limits it, since the kernel kills at that limit whatever the machine has. None when neither
    can be read (not Linux)."""
    found = []
    try:
        with open(os.path.join(proc, "meminfo"), encoding="ascii") as fh:
            found += [int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:")]
    except (OSError, ValueError, IndexError):
        pass
    room = _cgroup_room(proc, cgroup_root)
    if room is not None:
        found.append(room)
    return min(found) if found else None


def _cgroup_room(proc: str, cgroup_root: str) -> int | None:
    """The smallest (limit - usage) over this process's memory cgroup and its parents, cgroup v2
    (``memory.max``, ``memory.current``) or v1 (``memory.limit_in_bytes``, ``memory.usage_in_bytes``);
    None when no level has a limit."""
    try:
        with open(os.path.join(proc, "self", "cgroup"), encoding="utf-8") as fh:
            entries = [line.rstrip("\n").split(":", 2) for line in fh if line.count(":") >= 2]
    except OSError:
        return None
    for _hid, ctrls, path in entries:
        if ctrls == "":
            root, files = cgroup_root, ("memory.max", "memory.current")
        elif "memory" in ctrls.split(","):
            root, files = os.path.join(cgroup_root, "memory"), ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        rooms = []
        d = os.path.join(root, path.strip("/"))
        while True:
            try:
                with open(os.path.join(d, files[0]), encoding="ascii") as a, \
                        open(os.path.join(d, files[1]), encoding="ascii") as b:
                    limit, usage = a.read().strip(), b.read().strip()
                if limit.isdigit() and int(limit) < 1 << 60 and usage.isdigit():    # "max", v1's "none"
                    rooms.append(max(0, int(limit) - int(usage)))
            except OSError:
                pass
            if os.path.normpath(d) == os.path.normpath(root):
                break
            d = os.path.dirname(d)
        if rooms:
            return min(rooms)
    return None
