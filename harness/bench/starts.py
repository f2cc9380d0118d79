"""Precompiled starts: what a production process pays to get its first compiled forecast, measured in fresh processes.

A compiled run (``bench --starts``) measures, after its timed calls, each way a new process can start:

- ``disk``: inductor's on-disk caches as this run left them (a second process on the same machine, same cache dir);
- ``artifacts``: an empty cache, then ``torch.compiler.load_cache_artifacts`` of what this run saved with
  ``save_cache_artifacts`` (a portable file a deploy can ship; torch >= 2.7);
- ``aot``: the AOTInductor package this run built (the ``aot-encoder`` configuration), loaded without compiling.

Each probe is a child process (``python -m harness start-probe FILE``): it loads the model as the run did, starts the
clock after one uncompiled call (what a fresh process pays before any forecast, eager or not), loads the artifacts or
package, compiles and makes the first call, then three steady calls. Its start cost is the first call less the steady
median, the same definition as the run's compile time; the model's loading, common to eager and compiled, is not
counted.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.bench.spec import RunSpec

log = logging.getLogger(__name__)

PROBE_FORMAT = 1
AFFINITY_VARIABLE = "HARNESS_CPU_AFFINITY"  # the run's CPUs, saved before OMP_PROC_BIND pinned its main thread to one


def run_cpus() -> list[int]:
    """The CPUs the run may use: as saved by ``bench`` before OpenMP binding, else this process's affinity."""
    saved = os.environ.get(AFFINITY_VARIABLE, "")
    if saved:
        return [int(cpu) for cpu in saved.split(",")]
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


STEADY_CALLS = 3
KINDS = ("disk", "artifacts", "aot")


def kinds_for(scope: str) -> tuple[str, ...]:
    """The starts a configuration has: an AOTInductor package loads as such; an ONNX model has none measured (its
    session builds in the first call, which the compile time holds); anything else from caches. Pure."""
    if scope == "onnx-encoder":
        return ()
    return ("aot",) if scope == "aot-encoder" else ("disk", "artifacts")


def measure_starts(spec: RunSpec, compiled_module: Any) -> dict[str, float | None]:
    """Each start of :func:`kinds_for` in a fresh child process; a probe that fails is None (and logged)."""
    import torch

    from harness.bench.isolation import harness_command, run_child
    from harness.bench.request import BenchRequest

    starts: dict[str, float | None] = {}
    if spec.compile.cache == "off":  # a "warm" start would compile from scratch: nothing to measure
        log.warning("%s: --starts with --inductor-cache off: no cache to start from; starts not measured", spec.window.symbol)
        return starts
    timeout_s = BenchRequest.from_json(spec.starts, source="the run's request").timeout
    with tempfile.TemporaryDirectory(prefix="harness-starts-") as scratch:
        artifacts = Path(scratch) / "artifacts.bin"
        saved = torch.compiler.save_cache_artifacts() if hasattr(torch.compiler, "save_cache_artifacts") else None
        if saved is not None:
            artifacts.write_bytes(saved[0])
        package = getattr(getattr(compiled_module, "_modules", {}).get("encoder"), "package", "")
        for kind in kinds_for(spec.compile.scope):
            if kind == "artifacts" and saved is None:  # e.g. freezing: inductor bypasses its FX graph cache
                log.warning("%s: no cache artifacts to start from: inductor cached nothing this run", spec.window.symbol)
                starts[kind] = None
                continue
            if kind == "aot" and not package:
                log.warning("%s: no AOTInductor package to start from: the first call did not build one", spec.window.symbol)
                starts[kind] = None
                continue
            document = {
                "format": PROBE_FORMAT,
                "request": spec.starts,
                "kind": kind,
                "cache_dir": os.environ.get("TORCHINDUCTOR_CACHE_DIR", ""),
                "artifacts": str(artifacts),
                "package": package,
                "out": str(Path(scratch) / f"{kind}.json"),
                "affinity": run_cpus(),  # the CPUs before any OpenMP binding
            }
            probe_file = Path(scratch) / f"{kind}-probe.json"
            probe_file.write_text(json.dumps(document), encoding="utf-8")
            result = run_child(harness_command(["-q", "start-probe", str(probe_file)]), timeout_s=timeout_s)
            out = Path(str(document["out"]))
            if result.returncode != 0 or not out.is_file():
                log.warning("%s: %s start probe: %s %s", spec.window.symbol, kind, result.status, result.message)
                starts[kind] = None
                continue
            starts[kind] = float(json.loads(out.read_text(encoding="utf-8"))["start_s"])
    return starts


def probe(path: Path) -> int:
    """A start probe (the child): the run's request, one start ``kind``; writes ``{"start_s", "first_s", "steady_s"}``."""
    from harness.base.errors import InputError

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("format") != PROBE_FORMAT or document.get("kind") not in KINDS:
            raise ValueError("not format 1 with a known kind")
        for field in ("request", "cache_dir", "artifacts", "package", "out"):
            if not isinstance(document.get(field), str):
                raise ValueError(f"field {field!r} missing or not text")
        if document["kind"] == "aot" and not document["package"]:
            raise ValueError("kind 'aot' without a package")
        affinity = document.get("affinity") or []
        if not isinstance(affinity, list) or not all(isinstance(cpu, int) for cpu in affinity):
            raise ValueError("field 'affinity' not a list of CPU numbers")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not a start probe this harness wrote ({exc}); fix: run `python -m harness bench --starts`"
        ) from exc
    kind = document["kind"]
    if affinity:  # an OpenMP binding in the parent pinned it to one CPU; this process gets the run's CPUs back
        os.sched_setaffinity(0, affinity)
    with tempfile.TemporaryDirectory(prefix="harness-probe-") as empty:
        # before torch compiles anything: the filled cache (disk), or an empty one (artifacts, aot)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = document["cache_dir"] if kind == "disk" else empty
        figures = _first_call(document, kind, source=str(path))
    Path(document["out"]).write_text(json.dumps(figures), encoding="utf-8")
    return 0


def _first_call(document: dict[str, Any], kind: str, *, source: str) -> dict[str, float]:
    import torch

    from harness.bench.compiling import compile_module, compiled_threads, inductor_config
    from harness.bench.request import BenchRequest, plan
    from harness.bench.spec import resolve_device
    from harness.model.forecast import predict
    from harness.model.loading import load_pipeline
    from harness.model.precision import matmul_precision

    request = BenchRequest.from_json(document["request"], source=source)
    with tempfile.TemporaryDirectory(prefix="harness-probe-results-") as results:  # plan refuses an existing result
        spec = plan(dataclasses.replace(request, results_dir=Path(results), isolate=False, quiet=True))[0]
    device = resolve_device(spec.params.device)
    settings = spec.compile
    pipeline = load_pipeline(spec.source, attn_implementation=settings.attn_implementation, device=device, dtype=settings.dtype)
    predict(pipeline, spec.window, spec.params)  # an uncompiled call first: a fresh process's first-call costs, eager's too
    start = time.perf_counter()
    if kind == "artifacts":
        torch.compiler.load_cache_artifacts(Path(document["artifacts"]).read_bytes())
    # in the configuration's matmul mode (TF32 for "tf32"), as the run compiled and timed it
    with inductor_config(settings), compiled_threads(settings), matmul_precision(settings.dtype):
        pipeline.model = compile_module(pipeline.model, settings, package=document["package"] if kind == "aot" else "")
        predict(pipeline, spec.window, spec.params)
        first = time.perf_counter() - start
        steady = []
        for _ in range(STEADY_CALLS):
            begin = time.perf_counter()
            predict(pipeline, spec.window, spec.params)
            steady.append(time.perf_counter() - begin)
    median = statistics.median(steady)
    return {"start_s": max(first - median, 0.0), "first_s": first, "steady_s": median}
