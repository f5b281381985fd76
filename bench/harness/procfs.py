"""A process's CPU time and memory, read from /proc.

CPU time is utime + stime of the whole process (all threads), from /proc/PID/stat.
Memory is from /proc/PID/status: VmRSS (resident now) and VmHWM (peak resident).
"""
import os
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTimes:
    user_s: float
    system_s: float

    @property
    def total_s(self):
        return self.user_s + self.system_s

    def __sub__(self, other):
        return CpuTimes(self.user_s - other.user_s, self.system_s - other.system_s)


def parse_stat(text: str) -> CpuTimes:
    """utime and stime from the text of /proc/PID/stat.

    The command name (field 2) is in parentheses and may hold spaces or ')', so fields
    are counted from the last ')'. utime and stime are fields 14 and 15 (proc(5)).
    """
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state), so field N is rest[N - 3].
    return CpuTimes(int(rest[14 - 3]) / CLOCK_TICKS, int(rest[15 - 3]) / CLOCK_TICKS)


def parse_status(text: str) -> dict:
    """The 'kB' lines of /proc/PID/status as {name: KiB}, e.g. {'VmRSS': 5120, ...}."""
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[name] = int(parts[0])
    return out


def cpu_times(pid: int) -> CpuTimes:
    with open(f"/proc/{pid}/stat") as f:
        return parse_stat(f.read())


def memory_kib(pid: int) -> dict:
    with open(f"/proc/{pid}/status") as f:
        return parse_status(f.read())


def listening_ports(paths=("/proc/net/tcp", "/proc/net/tcp6")) -> set:
    """Local ports in state LISTEN (0A), so a broker's readiness can be seen without
    opening a connection to it."""
    ports = set()
    for path in paths:
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A":
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            continue
    return ports
