"""Where a run ran, on macOS too: the CPU's model and ISA flags from sysctl (no /proc there), so that a Mac's results
meet its own baselines under the full gate instead of the portable one forever."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from harness.results.fingerprint import cpu_flags, cpu_model, darwin_cpu_flags


def test_an_intel_macs_sysctl_features_read_as_linux_names_an_apple_cpu_as_advanced_simd() -> None:
    intel = "FPU VME SSE SSE2 AVX1.0 FMA\n RDWRFSGS BMI1 AVX2 AVX512F AVX512DQ AVX512BW AVX512VL AVX512VNNI\n"
    assert darwin_cpu_flags(intel, "x86_64") == "avx,avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512_vnni"
    assert darwin_cpu_flags("", "arm64") == "asimd"
    assert darwin_cpu_flags("", "x86_64") == ""


def _fake_sysctl(directory: Path, answers: dict[str, str]) -> None:
    """A ``sysctl`` on PATH answering ``-n NAME`` from ``answers`` (exit 1 for an unknown name, as the real one does)."""
    cases = "".join(f'  {name}) printf %s "{value}";;\n' for name, value in answers.items())
    script = directory / "sysctl"
    script.write_text(f'#!/bin/sh\ncase "$2" in\n{cases}  *) echo "unknown oid $2" >&2; exit 1;;\nesac\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands in for sysctl")
def test_on_macos_the_model_and_flags_come_from_sysctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_sysctl(tmp_path, {"machdep.cpu.brand_string": "Apple M2 Pro"})  # no feature lists: Apple Silicon
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr("harness.results.fingerprint.sys.platform", "darwin")
    monkeypatch.setattr("harness.results.fingerprint.platform.machine", lambda: "arm64")
    assert cpu_model() == "Apple M2 Pro" and cpu_flags() == "asimd"
    _fake_sysctl(tmp_path, {"machdep.cpu.brand_string": "Intel(R) Core(TM) i9", "machdep.cpu.features": "AVX1.0 FMA"})
    monkeypatch.setattr("harness.results.fingerprint.platform.machine", lambda: "x86_64")
    assert cpu_model() == "Intel(R) Core(TM) i9" and cpu_flags() == "avx,fma"


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands in for nvidia-smi")
def test_the_gpu_clock_is_read_from_nvidia_smi_for_the_runs_gpu_and_none_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.results.fingerprint import gpu_clock_mhz

    script = tmp_path / "nvidia-smi"  # answers for the GPU index it is asked about (`-i N`: its 3rd and 4th arguments)
    script.write_text('#!/bin/sh\n[ "$3" = "-i" ] && [ "$4" = "1" ] && echo "1980" && exit 0\necho "345"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    assert gpu_clock_mhz("cpu") is None
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert gpu_clock_mhz("cuda:1") == 1980.0 and gpu_clock_mhz("cuda") == 345.0
    script.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert gpu_clock_mhz("cuda") is None
