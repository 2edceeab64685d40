"""Every bead score is a number in [0, 1]: the one place all scores pass before any output."""

import math

import numpy as np
import pytest

from align.beads import Bead
from align.errors import FormatError
from align.formats import read_beads


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_a_non_finite_score_is_an_error_not_an_output(bad):
    with pytest.raises(ValueError, match="not a number in \\[0, 1\\]"):
        Bead((0,), (1,), bad)


@pytest.mark.parametrize("given, kept", [(1.0000002, 1.0), (-1e-9, 0.0), (0.25, 0.25), (np.float64(0.5), 0.5)])
def test_rounding_just_outside_the_range_is_clamped(given, kept):
    score = Bead((0,), (1,), given).score
    assert score == kept and type(score) is float


@pytest.mark.parametrize("score", ["NaN", "Infinity", "-Infinity"])
def test_reading_a_non_finite_score_is_a_format_error_naming_the_line(tmp_path, score):
    path = tmp_path / "beads.jsonl"
    path.write_text('{"src": [0], "tgt": [0], "score": 0.5}\n{"src": [1], "tgt": [1], "score": %s}\n' % score)
    with pytest.raises(FormatError, match=f"{path}:2: score .* is not a finite number"):
        read_beads(path)
