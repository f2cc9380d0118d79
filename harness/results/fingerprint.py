"""The environment fingerprint recorded in every result row and every baseline."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import harness


@dataclass(frozen=True, kw_only=True)
class Fingerprint:
    harness_version: str
    git_commit: str
    python_version: str
    torch_version: str
    chronos_version: str
    transformers_version: str
    numpy_version: str
    platform: str
    device_type: str  # "cpu" or "cuda"
    device_name: str  # CPU model or GPU name
    cpu_model: str
    cpu_count: int
    torch_threads: int
    cuda_version: str  # "" on CPU builds
    cuda_driver: str  # "" without nvidia-smi
    cpu_flags: str = ""  # the ISA extensions inductor's CPU code depends on (see INDUCTOR_ISA_FLAGS); "" = not recorded

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def _sysctl(*names: str) -> str:
    """``sysctl -n names`` (macOS), "" when it is not there or fails."""
    try:
        return subprocess.run(["sysctl", "-n", *names], capture_output=True, text=True, check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model() -> str:
    if sys.platform == "darwin":  # no /proc: the brand string ("Apple M2 Pro", "Intel(R) Core(TM) i9-9980HK ...")
        brand = _sysctl("machdep.cpu.brand_string").strip()
        if brand:
            return brand
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# /proc/cpuinfo flags that change the code inductor generates or the kernels torch picks: two CPUs reporting the same
# generic model name ("AMD EPYC") can differ here, and their timings with them (1.03x vs 1.45x on one configuration)
INDUCTOR_ISA_FLAGS: tuple[str, ...] = (
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512dq",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "avx_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "asimd",
    "sve",
)


# sysctl's names (machdep.cpu.features and leaf7_features, Intel Macs) for the flags Linux names in /proc/cpuinfo
_DARWIN_NAMES = {
    "AVX1.0": "avx",
    "AVX2": "avx2",
    "FMA": "fma",
    "AVX512F": "avx512f",
    "AVX512BW": "avx512bw",
    "AVX512VL": "avx512vl",
    "AVX512DQ": "avx512dq",
    "AVX512VNNI": "avx512_vnni",
}


def darwin_cpu_flags(features: str, machine: str) -> str:
    """:func:`cpu_flags` on macOS from sysctl's feature list (Intel) and the machine (``arm64``: Apple Silicon, whose
    Advanced SIMD every Apple CPU has, and none of the x86 flags). Pure."""
    present = {_DARWIN_NAMES.get(token.upper(), "") for token in features.split()}
    if machine == "arm64":
        present.add("asimd")
    return ",".join(flag for flag in INDUCTOR_ISA_FLAGS if flag in present)


def cpu_flags(cpuinfo: str | None = None) -> str:
    """The :data:`INDUCTOR_ISA_FLAGS` this CPU has, comma-separated in that order: from /proc/cpuinfo on Linux, from
    sysctl on macOS ("" when neither can be read: then no baseline of another machine is ever taken as this one's)."""
    if cpuinfo is None and sys.platform == "darwin":
        features = " ".join(_sysctl(name) for name in ("machdep.cpu.features", "machdep.cpu.leaf7_features"))
        return darwin_cpu_flags(features, platform.machine())  # each asked apart: Apple Silicon has neither
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            return ""
    present: set[str] = set()
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            present.update(value.split())
            break
    return ",".join(flag for flag in INDUCTOR_ISA_FLAGS if flag in present)


def git_commit(cwd: Path | None = None) -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=cwd, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            cwd=cwd,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def _cuda_driver() -> str:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.strip().splitlines()[0] if out.strip() else ""


def gpu_clock_mhz(device: str) -> float | None:
    """The GPU's SM clock now, MHz (``nvidia-smi``), for ``cuda`` or ``cuda:N``; None on a CPU or without
    nvidia-smi. Read right after the timed calls: a GPU that clocked down between processes explains a slow session."""
    if not device.startswith("cuda"):
        return None
    index = device.partition(":")[2] or "0"
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=clocks.sm", "--format=csv,noheader,nounits", "-i", index],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
        return float(out.split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def fingerprint(device: str) -> Fingerprint:
    """Describe this process's environment; ``device`` is the resolved torch device string."""
    import torch

    on_cuda = device.startswith("cuda")
    return Fingerprint(
        harness_version=harness.__version__,
        git_commit=git_commit(),
        python_version=platform.python_version(),
        torch_version=torch.__version__,
        chronos_version=_version("chronos-forecasting"),
        transformers_version=_version("transformers"),
        numpy_version=_version("numpy"),
        platform=platform.platform(),
        device_type="cuda" if on_cuda else "cpu",
        device_name=torch.cuda.get_device_name(torch.device(device)) if on_cuda else cpu_model(),
        cpu_model=cpu_model(),
        cpu_count=os.cpu_count() or 0,
        torch_threads=torch.get_num_threads(),
        cuda_version=torch.version.cuda or "",
        cuda_driver=_cuda_driver() if on_cuda else "",
        cpu_flags=cpu_flags(),
    )
