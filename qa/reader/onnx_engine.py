"""Run the span model through ONNX Runtime (measured faster than torch on this CPU; see
reports/reader.md, whose latency table times the torch peer in the same run).

The ONNX graph is not shipped: it is exported from the shipped weights at first use and kept in a
cache folder, keyed by a hash of the weights, the quantisation and the library versions, so a
changed reader or an upgraded runtime never reuses a stale graph. Writes are atomic (temp file +
``os.replace``): two processes exporting at once both end with a whole file. When the cache
folder cannot be written the graph lives in a temporary folder for the life of the process.

Cache folder: ``$QA_CACHE_DIR``, else ``$XDG_CACHE_HOME/qa-news``, else ``~/.cache/qa-news``.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17
# int8 weights, activations quantised on the fly. "per-tensor": one scale per weight matrix (the
# readers span-fast and span-tiny were fitted on it); "per-channel": one scale per output column,
# which keeps the 6-layer reader's accuracy where per-tensor lost ~3 F1 (reports/speed.md).
QUANTIZATIONS = ("per-tensor", "per-channel")


def quantization(quantize: bool | str) -> str:
    """The quantisation ``quantize`` asks for: "" (fp32) or one of ``QUANTIZATIONS`` (True = per-tensor)."""
    if quantize is True:
        return "per-tensor"
    if not quantize:
        return ""
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"unknown quantisation {quantize!r}; choose one of {', '.join(QUANTIZATIONS)}")
    return str(quantize)


def available() -> bool:
    """True when onnxruntime (and onnx, needed to quantise) can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def cache_dir() -> Path:
    if os.environ.get("QA_CACHE_DIR"):
        return Path(os.environ["QA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa-news"


def graph_key(weights_file: Path, quantize: bool | str) -> str:
    """Names the exported graph: what it was made from and by which versions."""
    import onnxruntime
    import torch

    mode = quantization(quantize)
    h = hashlib.sha256()
    with open(weights_file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    per_channel = " per_channel" if mode == "per-channel" else ""
    h.update(f"int8={bool(mode)}{per_channel} torch={torch.__version__} ort={onnxruntime.__version__} "
             f"opset={OPSET}".encode())
    return h.hexdigest()[:20]


def _export(model, out: Path, quantize: bool | str) -> None:
    """Write the ONNX graph of ``model`` (fp32, or int8 weights via ORT dynamic quantisation) to ``out``."""
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        ids = torch.tensor([[101, 2054, 102, 1996, 3899, 102]])
        example = (ids, torch.ones_like(ids), torch.tensor([[0, 0, 0, 1, 1, 1]]))
        dims = {n: {0: "batch", 1: "tokens"} for n in (*INPUT_NAMES, "start", "end")}
        import warnings

        with warnings.catch_warnings(), torch.inference_mode(False):
            warnings.simplefilter("ignore")  # the TorchScript exporter's tracer notes
            torch.onnx.export(model.eval(), example, str(fp32), input_names=list(INPUT_NAMES),
                              output_names=["start", "end"], dynamic_axes=dims, opset_version=OPSET,
                              dynamo=False)
        if quantization(quantize):
            from onnxruntime.quantization import QuantType, quantize_dynamic

            int8 = Path(tmp) / "int8.onnx"
            logging.disable(logging.WARNING)  # the quantiser's generic "consider pre-processing" advice
            try:
                quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8,
                                 per_channel=quantization(quantize) == "per-channel")
            finally:
                logging.disable(logging.NOTSET)
            fp32 = int8
        shutil.copyfile(fp32, out)


def graph_path(load_model: Callable[[], object], weights_file: Path, quantize: bool | str) -> Path:
    """The cached graph for these weights, exporting ``load_model()`` first if needed (atomic write).

    ``load_model`` is only called to export: a cached graph needs no torch model at all."""
    key = graph_key(weights_file, quantize)
    suffix = {"": "", "per-tensor": "-int8", "per-channel": "-int8pc"}[quantization(quantize)]
    return cached_file(cache_dir() / f"reader-{key}{suffix}.onnx",
                       lambda out: _export(load_model(), out, quantize), "the reader")


def cached_file(target: Path, write: Callable[[Path], None], what: str) -> Path:
    """``target`` if it exists, else written by ``write(path)`` to a temp file and moved into place
    (``os.replace``: two processes exporting at once both end with a whole file). When the cache
    folder cannot be written the file lives in a temporary folder for the life of the process."""
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as e:  # read-only home, full disk...: keep the graph for this process only
        log.warning("cannot write the ONNX cache of %s in %s (%s); using a temporary folder",
                    what, target.parent, e)
        private = Path(tempfile.mkdtemp(prefix="qa-news-onnx-")) / target.name
        write(private)
        return private
    try:
        log.info("exporting %s to ONNX (%s, once per version)", what, target)
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def load_session(load_model: Callable[[], object], weights_file: Path, quantize: bool | str,
                 threads: int | None = None) -> "OnnxSpanModel":
    """An ONNX Runtime session over the cached graph of these weights. A cached graph that does
    not load (truncated or damaged on disk) is deleted and exported again, once."""
    path = graph_path(load_model, weights_file, quantize)
    try:
        return OnnxSpanModel(path, threads)
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        log.warning("the cached reader graph %s does not load (%s); exporting it again", path, e)
        path.unlink(missing_ok=True)
        return OnnxSpanModel(graph_path(load_model, weights_file, quantize), threads)


class OnnxSpanModel:
    """Callable like ``SpanModel`` on one padded batch, but on numpy arrays through ONNX Runtime:
    returns (start_logits, end_logits) as float32 arrays of shape (batch, tokens)."""

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = int(threads or os.cpu_count() or 1)
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3  # warnings about unused initialisers are noise here
        # No busy-waiting after a run: spinning threads held the 2 cores while the torch query
        # encoder ran next (seed eval: encode p50 59 ms with spinning vs ~20 ms without).
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids, attention_mask, token_type_ids) -> tuple[np.ndarray, np.ndarray]:
        feed = {n: np.asarray(a, dtype=np.int64) for n, a in
                zip(INPUT_NAMES, (input_ids, attention_mask, token_type_ids))}
        start, end = self.session.run(["start", "end"], feed)
        return start, end
