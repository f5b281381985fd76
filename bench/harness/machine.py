"""What the run ran on, written into the results so that figures keep their context."""
import os
import platform
import subprocess

from .brokers import version_of_mosquitto


def _first(path, prefix):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _run(cmd, cwd=None):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=cwd)
        return out.stdout.strip() or out.stderr.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None


def describe(repo_root: str, cicada_binary: str) -> dict:
    mem_kib = _first("/proc/meminfo", "MemTotal")
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo_root)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _first("/proc/cpuinfo", "model name"),
        "kernel": platform.release(),
        "memory": mem_kib,
        "os": _os_release(),
        "load_average": os.getloadavg(),
        "open_files_limit": _run(["sh", "-c", "ulimit -n"]),
        "mosquitto": version_of_mosquitto(),
        "cicada_git": _run(["git", "rev-parse", "HEAD"], cwd=repo_root),
        "cicada_git_dirty": bool(dirty),
        "cicada_version": _run([cicada_binary, "--version"]),
        "compiler": (_run(["g++", "--version"]) or "").splitlines()[0:1],
    }


def _os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def one_line(m: dict) -> str:
    memory = m["memory"] or "? kB"
    gib = int(memory.split()[0]) / 1024 / 1024 if memory.split()[0].isdigit() else 0
    return (f"{m['nproc']} x {m['cpu_model']}, {gib:.1f} GiB, Linux {m['kernel']}, "
            f"{m['mosquitto']}, cicada {str(m['cicada_git'])[:10]}"
            f"{' (dirty)' if m['cicada_git_dirty'] else ''}")
