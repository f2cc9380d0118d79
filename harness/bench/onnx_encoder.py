"""The ``onnx-encoder`` arm: Chronos-2's encoder stack exported to ONNX (``torch.onnx.export``, dynamo exporter) at the
first call and run by ONNX Runtime's CPU provider; the data-dependent pre- and post-processing stays eager, as with
the AOTInductor package. Dynamic in the number of series and of patches (any batch and context, unlike the AOT
package's fixed shapes). Needs the ``onnx`` extra (onnxruntime, onnxscript, onnx). Imports torch and onnxruntime
only when called."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from typing import Any

SCOPE = "onnx-encoder"
MODULES = ("onnxruntime", "onnxscript", "onnx")  # what the export and the runtime import


def missing() -> str:
    """Why the arm cannot run here ("" when it can): the modules of the ``onnx`` extra that are not installed."""
    absent = [name for name in MODULES if importlib.util.find_spec(name) is None]
    if not absent:
        return ""
    return (
        f"--compile-scope {SCOPE}: {', '.join(absent)} not installed (ONNX Runtime runs the exported encoder); "
        "fix: pip install 'chronos-compile-bench[onnx]'"
    )


@contextlib.contextmanager
def exportable_masks() -> Iterator[None]:
    """While exporting: Chronos-2's group-time mask built from a float outer product instead of ``einsum`` over a bool
    and a float tensor, which the exporter writes as an ONNX Einsum on bool that ONNX Runtime refuses to load ("Type
    'tensor(bool)' of input parameter (eq) of operator (Einsum) ... is invalid"). The same values (0/1 products);
    the eager model is never patched outside this block."""
    import torch
    from chronos.chronos2.model import Chronos2Encoder
    from einops import rearrange

    original = Chronos2Encoder.__dict__["_construct_and_invert_group_time_mask"]

    def float_mask(group_ids: Any, attention_mask: Any, floating_type: Any) -> Any:
        group_mask = (group_ids[:, None] == group_ids[None, :]).to(attention_mask.dtype)
        group_time_mask = group_mask[:, :, None] * attention_mask[None, :, :]
        if torch.is_floating_point(attention_mask):
            floating_type = group_time_mask.dtype
        group_time_mask = rearrange(group_time_mask, "q b t -> t 1 q b")
        return (1.0 - group_time_mask) * torch.finfo(floating_type).min

    Chronos2Encoder._construct_and_invert_group_time_mask = staticmethod(float_mask)
    try:
        yield
    finally:
        Chronos2Encoder._construct_and_invert_group_time_mask = original


def OnnxEncoder(encoder: Any) -> Any:
    """The encoder stack as an ONNX Runtime session (an ``nn.Module`` holding the encoder, so the model's parameters
    still count), exported at the first call from that call's inputs (the series and patch dimensions dynamic); called
    as the encoder is (keyword arguments),
    returning the encoder's output type. ``.path`` names the .onnx file, ``.build_s`` the export and session time."""
    return _onnx_encoder_class()(encoder)


@functools.cache
def _onnx_encoder_class() -> type:
    import torch

    class _OnnxEncoder(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder
            self.session: Any = None
            self.path = ""
            self.build_s: float | None = None

        def forward(self, **kwargs: Any) -> Any:
            from chronos.chronos2.model import Chronos2EncoderOutput

            if kwargs.get("output_attentions"):
                raise ValueError(f"{SCOPE}: the exported encoder returns no attention weights")
            if self.session is None:
                self.session = self._build(kwargs)
            feeds = {name: kwargs[name].detach().cpu().numpy() for name in self.inputs}
            (hidden, *_) = self.session.run(None, feeds)
            return Chronos2EncoderOutput(last_hidden_state=torch.from_numpy(hidden))

        def _build(self, kwargs: dict[str, Any]) -> Any:
            import onnxruntime

            start = time.perf_counter()
            series, patches = torch.export.Dim("series", min=1, max=1 << 16), torch.export.Dim("patches", min=2, max=1 << 12)
            dynamic = {
                "attention_mask": {0: series, 1: patches},
                "inputs_embeds": {0: series, 1: patches},
                "group_ids": {0: series},
                **{name: None for name in kwargs if name not in ("attention_mask", "inputs_embeds", "group_ids")},
            }
            with exportable_masks(), torch.no_grad(), warnings.catch_warnings():
                # torch's own deprecation notices from inside the exporter (pytree's LeafSpec, dynamic axes): not ours
                # to act on, and under `-W error` they would fail the export
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                program = torch.onnx.export(self.encoder, (), kwargs=kwargs, dynamo=True, dynamic_shapes=dynamic, verbose=False)
            assert program is not None  # the dynamo exporter always returns its program
            # a folder of its own per export, under the run's cache folder (removed with it, for a cold cache): two runs
            # sharing a cache never read each other's model
            cache = os.environ.get("TORCHINDUCTOR_CACHE_DIR") or None
            self.path = os.path.join(tempfile.mkdtemp(prefix="harness-onnx-", dir=cache), "encoder.onnx")
            program.save(self.path)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()  # as many threads as the eager partner
            # no spinning between runs: ONNX Runtime's idle threads would spin against torch's OpenMP threads in the
            # eager work between encoder calls, and against the interleaved eager model
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
            self.inputs = [node.name for node in session.get_inputs()]
            self.build_s = time.perf_counter() - start
            return session

    return _OnnxEncoder
