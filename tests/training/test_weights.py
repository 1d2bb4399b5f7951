"""The span model's layer surgery and shipped-weights round trip (a shallower, distilled reader
must load back exactly as trained)."""
from __future__ import annotations

import json

import pytest
import torch

from qa.reader.model import META_FILE, SpanModel, load_shipped, load_tokenizer
from qa.training.weights import keep_layers, save_shipped, trained_state_from


def test_keep_layers_renumbers_the_kept_layers_and_keeps_everything_else():
    state = {f"encoder.encoder.layer.{i}.attention.w": torch.full((2,), float(i)) for i in range(6)}
    state["qa_head.weight"] = torch.ones(2)
    state["encoder.embeddings.word_embeddings.weight"] = torch.zeros(2)
    out = keep_layers(state, [0, 2, 4])
    layers = sorted(k for k in out if k.startswith("encoder.encoder.layer."))
    assert layers == [f"encoder.encoder.layer.{i}.attention.w" for i in range(3)]
    assert [float(out[f"encoder.encoder.layer.{i}.attention.w"][0]) for i in range(3)] == [0.0, 2.0, 4.0]
    assert "qa_head.weight" in out and "encoder.embeddings.word_embeddings.weight" in out
    # a layer index that is a prefix of another ("1" vs "10") must not be confused
    assert keep_layers({"encoder.encoder.layer.10.w": torch.ones(1)}, [1]) == {}


@pytest.mark.slow
def test_a_student_starts_from_the_teachers_bottom_layers():
    teacher = SpanModel.from_encoder(seed=0)
    student = SpanModel.from_encoder(seed=1, num_layers=3)
    assert teacher.num_layers == 6 and student.num_layers == 3
    student.load_trained_state(keep_layers(teacher.state_dict(), [0, 1, 2]), "teacher layers")
    for i in range(3):
        a = teacher.encoder.encoder.layer[i].output.dense.weight
        b = student.encoder.encoder.layer[i].output.dense.weight
        assert torch.equal(a, b)
    assert torch.equal(teacher.qa_head.weight, student.qa_head.weight)
    with pytest.raises(RuntimeError, match="unexpected"):  # six layers do not fit in three
        student.load_trained_state(teacher.state_dict(), "all six")


@pytest.mark.slow
def test_a_three_layer_reader_round_trips_through_the_shipped_files(tmp_path):
    model = SpanModel.from_encoder(seed=3, num_layers=3).eval()
    torch.nn.init.normal_(model.qa_head.weight, std=0.5)  # logits far from zero: a real comparison
    save_shipped(model, tmp_path, {"name": "span-fast"})
    meta = json.loads((tmp_path / META_FILE).read_text())
    assert meta["num_layers"] == 3
    loaded, _ = load_shipped(tmp_path)
    assert loaded.num_layers == 3
    tok = load_tokenizer()
    enc = tok("Who won?", "The Broncos won the game.", return_tensors="pt")
    args = (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    with torch.inference_mode():
        want, got = model(*args), loaded(*args)
    for a, b in zip(want, got):  # fp16 on disk: equal to ~1e-3
        assert torch.allclose(a, b, atol=2e-2), (a - b).abs().max()


def test_training_history_is_read_through_a_shipped_weights_folder(tmp_path):
    from qa.training.export import data_attribution, earlier_stages

    (tmp_path / META_FILE).write_text(json.dumps({"exported": "2026-11-23", "training": {
        "step": 1859, "examples_seen": 29744, "train_minutes": 63.7, "config": {"seed": 14},
        "earlier_stages": [{"checkpoint": "runs/reader/last.pt", "step": 2800, "train_minutes": 83.5,
                            "config": {"seed": 13}}]}}))
    stages = earlier_stages({"init_from": str(tmp_path), "train_sources": ["squad_train", "tydi"]})
    assert [st["step"] for st in stages] == [2800, 1859]
    assert stages[1]["train_minutes"] == 63.7
    data = data_attribution({"train_sources": ["squad_train", "tydi"]}, stages)
    # the earlier stages had no train_sources: they trained on the legacy three
    assert data["training_sources"] == ["squad_dev", "new_wiki", "reddit", "squad_train", "tydi"]
    assert any("TyDi" in line and "Apache-2.0" in line for line in data["training_data"])
