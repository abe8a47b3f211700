"""The corrected score: shrinkage, school generosity, age decay and the interval."""

import numpy as np
import pytest

from ratings.score import HALF_LIFE_DAYS, fit, plain_average, ranking


def test_few_ratings_are_pulled_to_the_mean():
    # teacher 0: a single five; teachers 1-10: forty ratings each, averaging 3.5 to 4.4
    rng = np.random.default_rng(1)
    teacher, stars = [0], [5]
    for t in range(1, 11):
        average = 3.4 + t / 10
        teacher += [t] * 40
        stars += list(np.clip(np.round(rng.normal(average, 0.7, 40)), 1, 5))
    scores, _offsets, mean = fit(np.array(teacher), np.zeros(len(stars), dtype=int), np.array(stars))
    assert mean < scores[0].score < 5.0
    # The one five is uncertain: it ranks below the teachers with many good ratings.
    order = [s.teacher for s in ranking(scores)]
    assert order.index(0) > order.index(10) and order.index(0) > order.index(9)
    assert scores[0].high - scores[0].low > 2 * (scores[10].high - scores[10].low)


def test_generous_school_is_corrected():
    # Teachers 0 and 1 are equally good; school 1's students add a star to everyone.
    # Teacher 2 teaches at both schools, which tells the model how generous each is.
    rows = []
    for school, bonus in ((0, 0), (1, 1)):
        rows += [(school, school, 3 + bonus)] * 100  # teacher == school here
        rows += [(2, school, 3 + bonus)] * 100
    teacher, school, stars = (np.array(col) for col in zip(*rows, strict=True))
    scores, offsets, _mean = fit(teacher, school, stars)
    plain = plain_average(teacher, stars, 3)
    assert plain[1] - plain[0] == pytest.approx(1.0)
    assert abs(scores[1].score - scores[0].score) < 0.2
    assert offsets[1] - offsets[0] > 0.7


def test_old_ratings_weigh_less():
    teacher = np.zeros(20, dtype=int)
    school = np.zeros(20, dtype=int)
    stars = np.array([1] * 10 + [5] * 10)
    age = np.array([4 * HALF_LIFE_DAYS] * 10 + [0] * 10)  # the ones are old, the fives recent
    scores, _offsets, _mean = fit(teacher, school, stars, age)
    assert scores[0].weight == pytest.approx(10 + 10 / 16)
    # More teachers so that the mean is not just this teacher's own.
    teacher = np.concatenate([teacher, np.ones(20, dtype=int)])
    school = np.concatenate([school, np.zeros(20, dtype=int)])
    stars_b = np.concatenate([stars, np.full(20, 3)])
    recent_fives, _, _ = fit(teacher, school, stars_b, np.concatenate([age, np.zeros(20)]))
    recent_ones, _, _ = fit(teacher, school, stars_b, np.concatenate([age[::-1], np.zeros(20)]))
    assert recent_fives[0].score > recent_ones[0].score


def test_interval_narrows_with_more_ratings():
    rng = np.random.default_rng(0)
    teacher = np.array([0] * 3 + [1] * 100)
    stars = rng.integers(3, 6, len(teacher))
    scores, _, _ = fit(teacher, np.zeros(len(teacher), dtype=int), stars)
    assert scores[0].high - scores[0].low > scores[1].high - scores[1].low
    for s in scores.values():
        assert 1 <= s.low <= s.score <= s.high <= 5


def test_no_ratings_no_scores():
    scores, offsets, mean = fit(np.array([]), np.array([]), np.array([]))
    assert scores == {} and mean == 0.0 and len(offsets) == 0
