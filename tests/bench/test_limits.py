"""The floor on the model's own GEMMs: every matrix product of a real prediction recorded with its shapes, and each
replayed alone at its best."""

from __future__ import annotations

import math
import statistics
import time

import pytest

from harness.bench.limits import Gemm, count_flops, gemm_floor_s, model_gemms, seconds_share
from harness.bench.runner import predict_close
from harness.model.loading import load_pipeline
from tests.bench.conftest import tiny_spec


def test_a_gemms_flops_are_two_m_k_n_times_its_batch_and_count() -> None:
    assert Gemm(op="addmm", shapes=((8,), (4, 3), (3, 8)), count=2).flops == 2 * (2 * 4 * 3 * 8)
    assert Gemm(op="bmm", shapes=((5, 4, 3), (5, 3, 8)), count=1).flops == 2 * 5 * 4 * 3 * 8


def test_seconds_share_is_none_for_anything_missing_or_not_positive() -> None:
    assert seconds_share(0.02, 0.1) == pytest.approx(0.2)
    for bad in (None, 0.0, -1.0, math.nan, math.inf):
        assert seconds_share(bad, 0.1) is None and seconds_share(0.02, bad) is None


@pytest.mark.heavy(seconds=3)
def test_the_recorded_gemms_are_every_flop_torch_counts_and_their_floor_is_below_the_prediction() -> None:
    spec = tiny_spec("eager")
    pipeline = load_pipeline(spec.source, attn_implementation="eager", device="cpu")

    def call() -> object:
        return predict_close(pipeline, spec.window, spec.params)

    call()
    gemms = model_gemms(call)
    assert {g.op for g in gemms} <= {"mm", "addmm", "bmm", "baddbmm"} and len(gemms) >= 5
    assert sum(g.flops for g in gemms) == count_flops(call)  # nothing FlopCounterMode counts is missing
    floor = gemm_floor_s(gemms)
    latencies = []
    for _ in range(5):
        start = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - start)
    # the prediction runs these GEMMs and much more (patching, norms, softmax, Python): its floor is a fraction of it
    assert 0 < floor < statistics.median(latencies)
    assert gemm_floor_s(gemms, "bfloat16") > 0
