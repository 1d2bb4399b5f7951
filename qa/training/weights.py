"""Training-side weight handling: cutting a trained model down to some of its layers, reading
training checkpoints, and writing the shipped weights folder that ``qa.reader.model.load_shipped``
reads back."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from qa.reader.model import EMBEDDING_PREFIX, META_FILE, WEIGHTS_FILE, SpanModel, embeddings_sha256, load_shipped


_LAYER_KEY = re.compile(r"^(encoder\.encoder\.layer\.)(\d+)(\..*)$")


def keep_layers(state: dict, layers: Sequence[int]) -> dict:
    """A trained state dict cut down to the encoder ``layers`` (in that order, renumbered 0..),
    e.g. ``[0, 1, 2]`` of a 6-layer reader to start a 3-layer student from it; every other tensor
    (head, embeddings) is kept as is."""
    where = {int(src): i for i, src in enumerate(layers)}
    out = {}
    for k, v in state.items():
        m = _LAYER_KEY.match(k)
        if m is None:
            out[k] = v
        elif int(m.group(2)) in where:
            out[f"{m.group(1)}{where[int(m.group(2))]}{m.group(3)}"] = v
    return out


def shipped_state_dict(model: SpanModel, dtype=torch.float16) -> dict[str, torch.Tensor]:
    """Everything except the (frozen) embeddings, cast to ``dtype``."""
    return {
        k: v.detach().to(dtype).contiguous()
        for k, v in model.state_dict().items()
        if not k.startswith(EMBEDDING_PREFIX)
    }


def save_shipped(model: SpanModel, out_dir: str | Path, meta: dict) -> Path:
    """Write ``reader.safetensors`` (fp16, no embeddings) and ``reader.json`` atomically."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(meta)
    meta["embeddings_sha256"] = embeddings_sha256(model)
    meta["num_layers"] = model.num_layers
    meta["weights_file"] = WEIGHTS_FILE
    meta["weights_dtype"] = "float16"
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(shipped_state_dict(model), str(tmp))
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / WEIGHTS_FILE)
    tmpj = out / (META_FILE + ".tmp")
    tmpj.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmpj, out / META_FILE)
    return out


def trained_state_from(path: str | Path) -> tuple[dict, dict]:
    """The trained (non-embedding) state and the recipe of a training checkpoint (``.pt``) or of a
    shipped weights folder (so training can continue from the committed weights when no
    checkpoint is left)."""
    p = Path(path)
    if p.is_dir():
        model, meta = load_shipped(p)
        state = {k: v for k, v in model.state_dict().items() if not k.startswith(EMBEDDING_PREFIX)}
        cfg = dict(meta.get("training", {}).get("config", {}))
        cfg["num_layers"] = meta.get("num_layers") or cfg.get("num_layers")
        return state, cfg
    ck = torch.load(p, weights_only=False, map_location="cpu")
    return ck["model"], ck.get("config", {})


def model_from_checkpoint(ckpt_path: str | Path) -> tuple[SpanModel, dict]:
    """Package encoder + the checkpoint's trained (non-embedding) weights, fp32, eval mode. A
    resumable checkpoint (``last.pt``) that keeps a weight average gives the average: it is what the
    run evaluates and what ``best.pt`` holds."""
    ck = torch.load(ckpt_path, weights_only=False, map_location="cpu")
    model = SpanModel.from_encoder(num_layers=ck.get("config", {}).get("num_layers"))
    state = dict(ck["model"])
    if ck.get("ema"):
        state.update(ck["ema"]["shadow"])
    model.load_trained_state(state, f"checkpoint {ckpt_path} weights")
    model.eval()
    return model, ck
