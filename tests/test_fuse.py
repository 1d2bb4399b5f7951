from qa.fuse import rrf


def test_rrf_hand_worked_order():
    # bm25: a b c ; dense: c a d   (k = 60, ranks 1-based)
    # a: 1/61 + 1/62 ; c: 1/63 + 1/61 ; b: 1/62 ; d: 1/63
    fused = rrf({"bm25": ["a", "b", "c"], "dense": ["c", "a", "d"]}, rrf_k=60)
    assert [i for i, _, _ in fused] == ["a", "c", "b", "d"]
    scores = dict((i, s) for i, s, _ in fused)
    assert abs(scores["a"] - (1 / 61 + 1 / 62)) < 1e-12
    assert fused[1][2] == {"bm25": 2, "dense": 0}


def test_rrf_ties_are_deterministic_and_top_k_cuts():
    fused = rrf({"x": ["b", "a"], "y": ["a", "b"]}, rrf_k=60, top_k=1)
    assert [i for i, _, _ in fused] == ["a"]


def test_rrf_single_list_keeps_order_and_duplicates_count_once():
    fused = rrf({"only": ["z", "y", "z", "x"]})
    assert [i for i, _, _ in fused] == ["z", "y", "x"]


def test_rrf_empty():
    assert rrf({}) == [] and rrf({"a": []}) == []
