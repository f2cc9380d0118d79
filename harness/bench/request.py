"""A bench request (:class:`BenchRequest`) and its plan: one :class:`~harness.bench.spec.RunSpec` per symbol, every
input checked before the first (slow) run.

The request is data from end to end. The CLI builds it once from its flags; an isolated child gets it as a JSON file
(``python -m harness run-spec FILE``), never as a command line rebuilt by hand, so a new bench option is one field
here and one flag in the parser.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.base.errors import InputError
from harness.base.options import BENCH_ROWS, DEFAULT_CONFIRM, DEFAULT_RUNS
from harness.bench.compiling import EXPORTED_SCOPES
from harness.bench.faults import Fault
from harness.bench.isolation import DEFAULT_TIMEOUT_S

if TYPE_CHECKING:
    import argparse

    from harness.bench.compiling import CompileSettings
    from harness.bench.spec import RunSpec

log = logging.getLogger("harness")


SPEC_FORMAT = 1  # the JSON an isolated child reads; parent and child are always the same harness


@dataclass(frozen=True, kw_only=True)
class BenchRequest:
    """Everything ``bench`` was asked to do. Field names are the bench flags' names (``--compile-mode`` -> compile_mode)."""

    mode: str
    symbol: tuple[str, ...] = ("BTCUSD",)
    model: str | None = None
    runs: int = DEFAULT_RUNS
    rows: int = BENCH_ROWS
    context_length: int | None = None
    date_format: str | None = None
    device: str | None = None
    compile_mode: str = "default"
    backend: str = "inductor"
    dynamic: str = "auto"
    inductor_cache: str = "cold"
    attn: str = "eager"
    dtype: str = "float32"
    sdpa_backend: str = ""
    freezing: bool = False
    gemm_backends: str = ""
    cpp_wrapper: bool = False
    compile_scope: str = "model"
    compile_threads: int = 0
    omp_bind: str = ""
    starts: bool = False
    fault: Fault | None = None
    isolate: bool = True
    timeout: float = DEFAULT_TIMEOUT_S
    warm_compile: bool = True
    vary_shapes: bool = False
    batch_series: int = 0
    keep_artifacts: Path | None = None
    extreme: str | None = None
    run_id: str | None = None
    confirms: str = ""  # set by `harness confirm`: the compiled run id this re-bench re-measures
    confirm: tuple[int, int] = DEFAULT_CONFIRM
    results_dir: Path = Path("results")
    data_dir: Path = Path("trainingdata")
    hyperparams_dir: Path = Path("hyperparams")
    quiet: bool = False
    # an isolated child's: the series its parent read and validated (harness.data.window.write_series), read instead
    # of the CSV, so that a bench parses its data once
    series_file: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchRequest:
        values = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
        values["symbol"] = tuple(args.symbol or cls.symbol)
        return cls(**values)

    def to_json(self, *, compact: bool = False) -> str:
        """The request as the JSON spec a child reads. ``compact``: only the fields that differ from their defaults
        (and those every reader needs), so that another version of the harness (``ab`` with a git ref) reads it as long
        as it knows every setting used."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        if compact:
            required = {"mode", "symbol", "confirm", "fault", "results_dir", "data_dir", "hyperparams_dir"}
            data = {f.name: data[f.name] for f in fields(self) if f.name in required or data[f.name] != f.default}
        data["fault"] = self.fault.text() if self.fault else None
        for name in ("results_dir", "data_dir", "hyperparams_dir"):
            data[name] = str(data[name])
        for name in ("series_file", "keep_artifacts"):
            if data.get(name) is not None:
                data[name] = str(data[name])
        return json.dumps({"format": SPEC_FORMAT, "request": data}, indent=1)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> BenchRequest:
        try:
            document = json.loads(text)
            if document.get("format") != SPEC_FORMAT:
                raise ValueError(f"format {document.get('format')!r}, expected {SPEC_FORMAT}")
            data = dict(document["request"])
            data["symbol"] = tuple(data["symbol"])
            data["confirm"] = tuple(data["confirm"])
            data["fault"] = Fault.parse(data["fault"]) if data["fault"] else None
            for name in ("results_dir", "data_dir", "hyperparams_dir"):
                data[name] = Path(data[name])
            for name in ("series_file", "keep_artifacts"):
                if data.get(name) is not None:
                    data[name] = Path(data[name])
            return cls(**data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{source}: not a bench spec this harness wrote ({exc}); fix: run `python -m harness bench` instead"
            ) from exc

    def compile_settings(self) -> CompileSettings:
        from harness.bench.compiling import CompileSettings

        return CompileSettings(
            mode=self.compile_mode,
            backend=self.backend,
            dynamic={"auto": None, "true": True, "false": False}[self.dynamic],
            attn_implementation=self.attn,
            cache=self.inductor_cache,
            dtype=self.dtype,
            freezing=self.freezing,
            sdpa_backend=self.sdpa_backend,
            gemm_backends=self.gemm_backends,
            cpp_wrapper=self.cpp_wrapper,
            scope=self.compile_scope,
            threads=self.compile_threads,
            omp_bind=self.omp_bind,
        )


def plan(request: BenchRequest) -> list[RunSpec]:
    """One :class:`RunSpec` per symbol, every input checked before the first (slow) run."""
    from harness.bench.rows import new_run_id
    from harness.bench.spec import RunSpec, resolve_device
    from harness.data.extreme import stressed
    from harness.data.params import fit_window, hyperparams_path, resolve_params
    from harness.data.window import load_ohlc, read_series
    from harness.model.loading import resolve_model

    _refuse_ignored_settings(request)
    repeated = sorted({symbol for symbol in request.symbol if request.symbol.count(symbol) > 1})
    if repeated:
        raise InputError(
            f"--symbol {', '.join(repeated)}: given more than once; fix: name each symbol once (each run writes one results file)"
        )
    run_id = request.run_id or new_run_id()
    specs = []
    for symbol in request.symbol:
        params = resolve_params(
            symbol, request.hyperparams_dir, model=request.model, context_length=request.context_length, device=request.device
        )
        if params.device.startswith("cuda"):  # refused here, not as a crash in a child: no CUDA, or no such GPU
            resolve_device(
                params.device, origin="--device" if request.device else str(hyperparams_path(request.hyperparams_dir, symbol))
            )
        refusal = precision_refusal(request, params.device)
        if refusal:
            raise InputError(refusal if refusal.startswith("--") else f"--{refusal}")  # "--dtype tf32: ..."
        if request.series_file is not None:  # an isolated child: its parent read and checked the CSV
            series = read_series(request.series_file)
        else:
            series = load_ohlc(request.data_dir, symbol, date_format=request.date_format)
        params, window, notes = fit_window(series, params, rows=request.rows)  # params: the context used, recorded in results
        if not request.isolate:  # isolated, the child prints it (its stderr passes through): once, not twice
            for note in notes:
                print(f"note: {note}", file=sys.stderr, flush=True)
        if request.extreme:
            window = stressed(window, request.extreme)
        fault = request.fault if request.fault and request.fault.applies_to(symbol) else None
        specs.append(
            RunSpec(
                mode="compiled" if request.mode == "compiled" else "eager",
                series=series,
                window=window,
                params=params,
                source=resolve_model(params.model),
                runs=request.runs,
                compile=request.compile_settings(),
                run_id=run_id,
                confirms=request.confirms,
                confirm=request.confirm,
                fault=fault,
                warm_compile=request.warm_compile,
                vary_shapes=request.vary_shapes or request.compile_scope in EXPORTED_SCOPES,  # exported: other shapes tried
                batch_series=request.batch_series if request.mode == "compiled" else 0,
                keep_artifacts=str(request.keep_artifacts) if request.keep_artifacts and request.mode == "compiled" else "",
                starts=replace(request, symbol=(symbol,), isolate=False, run_id=run_id, fault=None).to_json()
                if request.starts and request.mode == "compiled"
                else "",
            )
        )
    for spec in specs:
        path = request.results_dir / f"{result_name(spec)}.parquet"
        if path.exists():
            raise InputError(
                f"{path}: already exists (run id {run_id} used before); "
                "fix: leave out --run-id, or give a new one (results are never overwritten)"
            )
    return specs


def precision_refusal(request: BenchRequest, device: str) -> str:
    """Why compiled mode of ``request`` cannot run here on ``device`` ("auto" resolved), or "": TF32 needs CUDA, int8
    dynamic quantization a CPU, the ONNX arm a CPU and the ``onnx`` extra. A sweep skips such a configuration with
    this line; a bench refuses it."""
    from harness.bench import onnx_encoder
    from harness.bench.spec import resolve_device
    from harness.model.precision import unsupported_on

    if request.mode != "compiled":
        return ""
    device = resolve_device(device)
    if request.compile_scope == onnx_encoder.SCOPE:
        if device.startswith("cuda"):
            return f"--compile-scope {onnx_encoder.SCOPE}: runs ONNX Runtime's CPU provider; fix: --device cpu"
        if absent := onnx_encoder.missing():
            return absent
    return unsupported_on(request.dtype, device)


def _refuse_ignored_settings(request: BenchRequest) -> None:
    """A compile setting that would not apply is refused: a result labelled with a switch that did nothing misleads."""
    if request.gemm_backends and not request.compile_mode.startswith("max-autotune"):
        raise InputError(
            f"--gemm-backends {request.gemm_backends}: inductor autotunes GEMM backends only with max-autotune; "
            "fix: add --compile-mode max-autotune, or leave --gemm-backends out"
        )
    if request.compile_scope in EXPORTED_SCOPES:
        ignored = [
            flag
            for flag, given in (
                ("--backend", request.backend != "inductor"),
                ("--compile-mode", request.compile_mode != "default"),
                ("--dynamic", request.dynamic != "auto"),
                ("--gemm-backends", bool(request.gemm_backends)),
                ("--cpp-wrapper", request.cpp_wrapper),
                *(
                    (("--freezing", request.freezing), (f"--dtype {request.dtype}", request.dtype != "float32"))
                    if request.compile_scope == "onnx-encoder"
                    else ()
                ),
            )
            if given
        ]
        what = {
            "aot-encoder": "an AOTInductor package (torch.export, static shapes, inductor)",
            "onnx-encoder": "an ONNX export run by ONNX Runtime (float32, no inductor)",
        }[request.compile_scope]
        if ignored:
            raise InputError(
                f"--compile-scope {request.compile_scope}: {', '.join(ignored)} do(es) not apply to {what}; fix: leave them out"
            )


def result_name(spec: RunSpec) -> str:
    return f"{spec.run_id}-{spec.window.symbol}-{spec.mode}"
