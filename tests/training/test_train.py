"""Training pieces: the distillation loss and a tiny distillation run end to end."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from qa.training import data as sd
from qa.training.train import (
    WeightAverage,
    distill_loss,
    main as train_main,
    span_loss,
    target_masks,
    trainable_state,
)

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _batch(allowed):
    return {"allowed": torch.tensor(allowed)}


def test_distill_loss_is_zero_only_when_the_student_matches_the_teacher():
    torch.manual_seed(0)
    batch = _batch([[True, False, True, True, True]] * 2)
    teacher_s, teacher_e = torch.randn(2, 5), torch.randn(2, 5)
    same = distill_loss(teacher_s, teacher_e, teacher_s, teacher_e, batch, temperature=2.0)
    assert float(same) == pytest.approx(0.0, abs=1e-6)
    off = distill_loss(torch.zeros(2, 5), torch.zeros(2, 5), teacher_s, teacher_e, batch, temperature=2.0)
    assert float(off) > 0.01
    closer = distill_loss(teacher_s / 2, teacher_e / 2, teacher_s, teacher_e, batch, temperature=2.0)
    assert 0.0 < float(closer) < float(off)


def test_distill_loss_ignores_positions_outside_cls_and_context():
    torch.manual_seed(1)
    batch = _batch([[True, False, False, True, True]])
    s, e, ts, te = (torch.randn(1, 5) for _ in range(4))
    base = distill_loss(s, e, ts, te, batch, 1.0)
    s2, ts2 = s.clone(), ts.clone()
    s2[0, 1], ts2[0, 2] = 50.0, -50.0  # question tokens: not part of either distribution
    assert float(distill_loss(s2, e, ts2, te, batch, 1.0)) == pytest.approx(float(base), rel=1e-6)


def test_span_loss_with_one_right_position_is_plain_cross_entropy():
    torch.manual_seed(2)
    from qa.reader.windows import Window

    w = Window(0, [1] * 5, [0] * 5, [None, (0, 1), (1, 2), (2, 3), (3, 4)], start_position=2, end_position=3)
    batch = {"allowed": torch.tensor([[True, False, True, True, True]]),
             "start_positions": torch.tensor([2]), "end_positions": torch.tensor([3])}
    s, e = torch.randn(1, 5), torch.randn(1, 5)
    plain = span_loss(s, e, batch)
    batch["start_targets"], batch["end_targets"] = target_masks([w], 5)
    assert float(span_loss(s, e, batch)) == pytest.approx(float(plain), rel=1e-6)


def test_span_loss_sums_the_probability_of_every_right_occurrence():
    from qa.reader.windows import Window

    # two occurrences of the answer: (1, 1) and (3, 3); the model puts its mass on the second
    w = Window(0, [1] * 5, [0] * 5, [None, (0, 1), (1, 2), (2, 3), (3, 4)], start_position=1, end_position=1,
               alt_positions=[(3, 3)])
    batch = {"allowed": torch.ones(1, 5, dtype=torch.bool),
             "start_positions": torch.tensor([1]), "end_positions": torch.tensor([1])}
    logits = torch.tensor([[0.0, 0.0, 0.0, 8.0, 0.0]])
    first_only = span_loss(logits, logits, batch)
    batch["start_targets"], batch["end_targets"] = target_masks([w], 5)
    marginal = span_loss(logits, logits, batch)
    assert float(first_only) > 5.0  # the recovered occurrence alone calls this prediction wrong
    assert float(marginal) < 0.01  # summed over both occurrences it is right
    p = torch.softmax(logits, -1)[0]
    assert float(marginal) == pytest.approx(-float(torch.log(p[1] + p[3])), rel=1e-3)


def test_weight_average_follows_the_weights_and_swaps_back():
    lin = torch.nn.Linear(2, 1)
    params = list(lin.named_parameters())
    avg = WeightAverage(params, decay=0.5)
    start = lin.weight.detach().clone()
    with torch.no_grad():
        lin.weight.add_(2.0)
    avg.update(params)
    assert torch.allclose(avg.shadow["weight"], start + 1.0)  # halfway between old and new
    with avg.swapped_in(params):
        assert torch.allclose(lin.weight, start + 1.0)
    assert torch.allclose(lin.weight, start + 2.0)  # the current weights are back
    again = WeightAverage(params, decay=0.9)
    again.load_state_dict(avg.state_dict())
    assert again.decay == 0.5 and torch.equal(again.shadow["weight"], avg.shadow["weight"])
    with pytest.raises(ValueError):
        WeightAverage(params, decay=1.0)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA_DIR / sd.SQUAD_V11_DEV).exists(), reason="shared SQuAD data not found")
def test_a_two_layer_student_distils_from_a_teacher_checkpoint_and_exports(tmp_path):
    from qa.training.export import export_checkpoint
    from qa.reader.model import SpanModel, load_shipped, read_meta

    teacher = SpanModel.from_encoder(seed=0, num_layers=3)
    torch.save({"model": trainable_state(teacher), "config": {"num_layers": 3}}, tmp_path / "teacher.pt")
    cfg = json.loads(Path("configs/reader_tiny.json").read_text())
    cfg.update(num_layers=2, init_layers=[0, 2], init_from=str(tmp_path / "teacher.pt"),
               distill_from=str(tmp_path / "teacher.pt"), max_steps=2, eval_every=100, ckpt_every=100,
               eval_sample=8, batch_size=4, log_every=1)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    out = tmp_path / "run"
    code = train_main(["--config", str(tmp_path / "cfg.json"), "--out", str(out), "--limit-train", "8",
                       "--data-dir", str(DATA_DIR)])
    assert code == 0
    ck = torch.load(out / "last.pt", weights_only=False)
    assert ck["step"] == 2
    layers = {k.split(".")[3] for k in ck["model"] if k.startswith("encoder.encoder.layer.")}
    assert layers == {"0", "1"}
    # the student started from the teacher's layer 2 in its slot 1 (then took 2 small steps)
    moved = ck["model"]["encoder.encoder.layer.1.output.dense.weight"] - \
        teacher.encoder.encoder.layer[2].output.dense.weight.detach()
    assert float(moved.abs().max()) < 1e-2
    export_checkpoint(out / "last.pt", tmp_path / "weights", calibrate=False)
    meta = read_meta(tmp_path / "weights")
    assert meta["name"] == "span-tiny" and meta["num_layers"] == 2
    assert load_shipped(tmp_path / "weights")[0].num_layers == 2


def test_a_missing_teacher_is_a_clear_error(tmp_path, capsys):
    if not (DATA_DIR / sd.SQUAD_V11_DEV).exists():
        pytest.skip("shared SQuAD data not found")
    cfg = json.loads(Path("configs/reader_tiny.json").read_text())
    cfg.update(init_from=None, distill_from=str(tmp_path / "nope.pt"), eval_sample=4)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    code = train_main(["--config", str(tmp_path / "cfg.json"), "--out", str(tmp_path / "run"),
                       "--limit-train", "4", "--data-dir", str(DATA_DIR)])
    assert code == 2
    assert "train the teacher first" in capsys.readouterr().out
