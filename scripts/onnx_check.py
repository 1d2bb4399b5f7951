#!/usr/bin/env python
"""Is ONNX Runtime faster than torch for the span reader on this machine?

Exports the shipped reader (fp32) to ONNX in a temporary folder, then times the same batches
(one question x 5 passages of a held-out SQuAD paragraph, as the reader reads them) through
torch and through onnxruntime, interleaved so both see the same machine load, and checks the
logits agree. Prints JSON; nothing is written into the project.

    python scripts/onnx_check.py [--questions 40]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=40, help="timed questions (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime is not installed: pip install -e . (it is a dependency)", file=sys.stderr)
        return 2
    import numpy as np
    import torch

    from qa.reader.model import collate, load_shipped, load_tokenizer
    from qa.reader.span import SpanReader
    from qa.reader.squad_data import held_out_records, sample_records, tokenize_windows

    torch.set_num_threads(args.threads)
    model, _ = load_shipped()
    tok = load_tokenizer()
    reader = SpanReader()
    batches = []
    for r in sample_records(held_out_records(), args.questions, seed=0):
        # 5 passages of ~100 words, each one window, as the product reads retrieved chunks
        words = r.context.split(" ")
        texts = [" ".join(words[i * 20 : i * 20 + 100]) or r.context for i in range(5)]
        windows = tokenize_windows(tok, [r.question] * 5, texts, reader.max_seq_len, reader.stride,
                                   reader.max_question_tokens)
        batches.append(collate(windows))
    names = ("input_ids", "attention_mask", "token_type_ids")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "reader.onnx")
        dims = {n: {0: "batch", 1: "tokens"} for n in (*names, "start", "end")}
        torch.onnx.export(model, tuple(batches[0][n] for n in names), path, input_names=list(names),
                          output_names=["start", "end"], dynamic_axes=dims, opset_version=17, dynamo=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

        def run_torch(b):
            with torch.inference_mode():
                return [t.numpy() for t in model(*(b[n] for n in names))]

        def run_ort(b):
            return sess.run(None, {n: b[n].numpy() for n in names})

        for b in batches[:3]:  # warm both
            run_torch(b), run_ort(b)
        times = {"torch": [], "onnxruntime": []}
        max_diff = 0.0
        for b in batches:  # interleaved: both engines see the same load
            t0 = time.perf_counter()
            a = run_torch(b)
            times["torch"].append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            o = run_ort(b)
            times["onnxruntime"].append(1000 * (time.perf_counter() - t0))
            max_diff = max(max_diff, float(np.abs(a[0] - o[0]).max()), float(np.abs(a[1] - o[1]).max()))
    out = {"latency_ms": {k: {"p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95))}
                          for k, v in times.items()}}
    out.update(questions=len(batches), windows_per_question=5, threads=args.threads,
               tokens_per_window=float(np.mean([b["input_ids"].shape[1] for b in batches])),
               max_abs_logit_difference=max_diff, versions={"onnxruntime": ort.__version__, "torch": torch.__version__},
               speedup_p50=out["latency_ms"]["torch"]["p50"] / out["latency_ms"]["onnxruntime"]["p50"])
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
