"""Reading a server's processes from /proc: its training processes, their memory and CPU
(for benchmarks/classroom.py and benchmarks/photos.py)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


def process_status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state is [0], the parent [1], utime [11]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def descendants(pids: list[int]) -> list[int]:
    """Every process started by `pids` or their children: the servers' training processes."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parents[int(entry.name)] = int(stat_fields(int(entry.name))[1])
    found, frontier = [], set(pids)
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier}
        found.extend(frontier)
    return found


def own_cpu_seconds(pid: int) -> float:
    """CPU used by one process itself."""
    values = stat_fields(pid)
    return (int(values[11]) + int(values[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pids: list[int]) -> float:
    """CPU used by the servers, their live training processes, and those that have ended."""
    ticks = sum(sum(int(value) for value in stat_fields(pid)[11:15]) for pid in pids)  # own, ended children's
    live = 0.0
    for pid in descendants(pids):
        with contextlib.suppress(OSError):
            live += own_cpu_seconds(pid)
    return ticks / os.sysconf("SC_CLK_TCK") + live


class MemoryWatch:
    """Samples the memory of the servers and their training processes four times a second, and
    keeps the peak of the total and of the training processes' part.

    A training process maps the same TensorFlow and Python libraries as its server, and those
    file-backed pages are shared: 362 MB of its 832 MB resident after a Fast default training
    here. So the total is the servers' resident memory plus the training processes' own
    (anonymous) memory; the sum of everyone's resident memory, which counts the libraries
    twice, is kept too. (Listing the training processes reads every /proc/PID/stat: a few ms.)"""

    def __init__(self, pids: list[int]):
        self.pids, self._stop = pids, threading.Event()
        self.peak = self.training_peak = self.resident_sum_peak = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def servers(self) -> float:
        return sum(process_status(pid, "VmRSS") for pid in self.pids)

    def training_processes(self, field: str = "RssAnon") -> float:
        return sum(process_status(pid, field) for pid in descendants(self.pids))

    def now(self) -> float:
        return self.servers() + self.training_processes()

    def reset_peak(self) -> None:
        self.peak, self.training_peak = self.now(), self.training_processes()
        self.resident_sum_peak = self.servers() + self.training_processes("VmRSS")

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            with contextlib.suppress(OSError):
                servers, training = self.servers(), self.training_processes()
                self.peak = max(self.peak, servers + training)
                self.training_peak = max(self.training_peak, training)
                resident_sum = servers + self.training_processes("VmRSS")
                self.resident_sum_peak = max(self.resident_sum_peak, resident_sum)

    def close(self) -> None:
        self._stop.set()
