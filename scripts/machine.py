"""What machine a figure was measured on: every report names its CPU (CPUs change between sessions,
and int8 kernels give different numbers on each)."""
from __future__ import annotations

import platform
import subprocess


def cpu_name() -> str:
    """``lscpu``'s model name, e.g. "Intel(R) Xeon(R) Processor"; the platform's word for it otherwise."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown CPU"
