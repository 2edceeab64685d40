"""Scoring from Python, without shadowing the built-in ``eval``."""


def test_scores_import_by_name():
    from eval import score_alignment

    gold = [((0,), (0,)), ((1,), (1, 2))]
    score = score_alignment(gold, gold)
    assert (score.f1_strict, score.f1_lax) == (1.0, 1.0)
    assert eval("1 + 1") == 2  # the built-in is untouched by `from eval import ...`
