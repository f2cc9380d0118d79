"""What a result is about, in three parts: *what* was measured, *where*, and *with what* software. Pure: no torch.

The three parts decide which comparison a result gets against a baseline (see :mod:`harness.gate.checks`):

- same what, where and software: the full gate;
- same what and where, other software (an upgrade of torch, chronos-forecasting, transformers, Python, numpy or this
  harness): the full gate too, every finding naming what changed;
- same what, another where (another CPU, ISA, thread count, GPU or driver): the portable gate, which judges only
  what does not depend on the machine (success, flakiness, drift, MAE).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from harness.results.schema import RunRecord


@dataclass(frozen=True, kw_only=True, order=True)
class What:
    """What was measured: the same on every machine and every software version."""

    symbol: str
    model_id: str
    weights_sha256: str  # "" when not recorded (format-1 baselines)
    context_length: int
    batch_size: int
    prediction_length: int
    data_sha256: str
    compile_config: str  # "mode=...,backend=...,dynamic=...,attn=..." (+ dtype, freezing, sdpa backend when set)

    def settings(self) -> What:
        """The settings eager shares with every compile configuration: this, with the configuration blanked."""
        return What(**{**asdict(self), "compile_config": ""})


@dataclass(frozen=True, kw_only=True, order=True)
class Where:
    """The machine: seconds and speedups only compare on the same one."""

    device_type: str  # "cpu" | "cuda"
    device_name: str  # CPU model or GPU name
    cpu_model: str
    cpu_flags: (
        str  # ISA extensions that change inductor's code (harness.results.fingerprint.INDUCTOR_ISA_FLAGS); "" = not recorded
    )
    cpu_count: int
    torch_threads: int
    cuda_version: str  # "" on CPU: a CUDA wheel run on a CPU is the same machine as a CPU wheel
    cuda_driver: str

    @property
    def device(self) -> str:
        """``cpu:AMD EPYC x2``: the short label tables and file names use."""
        return f"{self.device_type}:{self.device_name} x{self.torch_threads}"

    def label(self) -> str:
        flags = self.cpu_flags or "ISA flags not recorded"
        gpu = f" · cuda {self.cuda_version} (driver {self.cuda_driver or '?'})" if self.device_type == "cuda" else ""
        return f"{self.device} · {self.cpu_count} CPUs · {flags}{gpu}"


def _comparable(name: str, version: str) -> str:
    """The part of a version that decides whether software changed: all of it, except the harness's patch level."""
    return ".".join(version.split(".")[:2]) if name == "harness" else version


@dataclass(frozen=True, kw_only=True, order=True)
class Software:
    """With what: an upgrade of any of these is gated as an upgrade comparison, naming the change."""

    torch: str
    chronos: str
    transformers: str
    python: str
    numpy: str
    harness: str

    def label(self) -> str:
        return " · ".join(f"{name} {value or '?'}" for name, value in asdict(self).items())

    def changes_from(self, before: Software) -> tuple[str, ...]:
        """``("torch 2.13.0+cpu → 2.14.1",)``: what differs from ``before``, oldest first. A field recorded on one side
        only ("" on the other, e.g. an old baseline without numpy) is not a change: nothing is known to differ. The
        harness counts by MAJOR.MINOR only: a patch release measures the same (the version policy in CHANGELOG.md)."""
        return tuple(
            f"{f.name} {getattr(before, f.name)} → {getattr(self, f.name)}"
            for f in fields(self)
            if getattr(before, f.name)
            and getattr(self, f.name)
            and _comparable(f.name, getattr(before, f.name)) != _comparable(f.name, getattr(self, f.name))
        )

    def matches(self, other: Software) -> bool:
        return not self.changes_from(other)


@dataclass(frozen=True, kw_only=True, order=True)
class Key:
    """What a comparison and its baseline are about."""

    what: What
    where: Where
    software: Software

    # the fields tables and plots read most
    @property
    def symbol(self) -> str:
        return self.what.symbol

    @property
    def model_id(self) -> str:
        return self.what.model_id

    @property
    def compile_config(self) -> str:
        return self.what.compile_config

    @property
    def context_length(self) -> int:
        return self.what.context_length

    @property
    def batch_size(self) -> int:
        return self.what.batch_size

    @property
    def prediction_length(self) -> int:
        return self.what.prediction_length

    @property
    def data_sha256(self) -> str:
        return self.what.data_sha256

    @property
    def torch_version(self) -> str:
        return self.software.torch

    @property
    def device(self) -> str:
        return self.where.device

    def as_dict(self) -> dict[str, dict[str, str | int]]:
        return {"what": asdict(self.what), "where": asdict(self.where), "software": asdict(self.software)}

    def label(self) -> str:
        return f"{self.symbol} · {self.model_id} · torch {self.torch_version} · {self.device} · {self.compile_config}"


def compile_config(record: RunRecord) -> str:
    """The compile configuration label; dtype and freezing appear only when not the defaults (older keys stay valid)."""
    label = f"mode={record.compile_mode},backend={record.compile_backend},dynamic={record.compile_dynamic},attn={record.attn_implementation}"
    optional = (  # (name, value): appended only when set, in this order
        ("dtype", record.dtype if record.dtype != "float32" else ""),
        ("freezing", "true" if record.compile_freezing else ""),
        ("sdpa_backend", record.sdpa_backend),
        ("gemm", record.gemm_backends),
        ("cpp_wrapper", "true" if record.cpp_wrapper else ""),
        ("scope", record.compile_scope),
        ("threads", str(record.compile_threads) if record.compile_threads else ""),
        ("omp_bind", record.omp_bind),
    )
    return label + "".join(f",{name}={value}" for name, value in optional if value)


def what_of(record: RunRecord) -> What:
    return What(
        symbol=record.symbol,
        model_id=record.model_id,
        weights_sha256=record.weights_sha256,
        context_length=record.context_length,
        batch_size=record.batch_size,
        prediction_length=record.prediction_length,
        data_sha256=record.data_sha256,
        compile_config=compile_config(record) if record.mode == "compiled" else "",
    )


def where_of(record: RunRecord) -> Where:
    on_cuda = record.device_type == "cuda"
    return Where(
        device_type=record.device_type,
        device_name=record.device_name,
        cpu_model=record.cpu_model,
        cpu_flags=record.cpu_flags,
        cpu_count=record.cpu_count,
        torch_threads=record.torch_threads,
        cuda_version=record.cuda_version if on_cuda else "",
        cuda_driver=record.cuda_driver if on_cuda else "",
    )


def software_of(record: RunRecord) -> Software:
    return Software(
        torch=record.torch_version,
        chronos=record.chronos_version,
        transformers=record.transformers_version,
        python=record.python_version,
        numpy=record.numpy_version,
        harness=record.harness_version,
    )


def key_of(record: RunRecord) -> Key:
    return Key(what=what_of(record), where=where_of(record), software=software_of(record))


def settings_of(record: RunRecord) -> Key:
    """What an eager run and a compiled run must share to be paired: everything but the compile configuration."""
    key = key_of(record)
    return Key(what=key.what.settings(), where=key.where, software=key.software)


def environment_of(record: RunRecord) -> str:
    """A readable label of where and with what: ``python 3.11.7 · chronos 2.3.2 · transformers 5.24.0 · <CPU> x2``."""
    parts = [
        f"python {record.python_version}",
        f"chronos {record.chronos_version}",
        f"transformers {record.transformers_version}",
        f"{record.cpu_model} x{record.cpu_count}",
    ]
    if record.cuda_version and record.device_type == "cuda":
        parts.append(f"cuda {record.cuda_version}" + (f" (driver {record.cuda_driver})" if record.cuda_driver else ""))
    return " · ".join(parts)
