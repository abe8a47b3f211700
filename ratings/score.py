"""The teacher score from students' stars: shrunken, corrected for school generosity, decayed with age.

Model: stars = mean + teacher effect + school effect + noise. Both effects are
estimated together by alternating shrunken means (ridge regression solved by
back-fitting), with each rating weighted by its age:

- a teacher with few ratings is pulled toward the district mean (the prior's
  weight is estimated from how much teachers really differ);
- a school whose students rate everyone high gets a positive offset, shrunk the
  same way, and the offset is removed from its teachers' scores, as an admission
  office corrects report grades with a school index;
- a rating loses half its weight every HALF_LIFE_DAYS.

The interval is score +- 1.96 standard errors of the teacher effect; ranking uses
its lower end, so a teacher with two five-star ratings does not outrank one with
fifty 4.6s. Pure numpy; no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Starting values of the priors, in ratings' worth of pull toward the district mean; the fit
# re-estimates both from the data (empirical Bayes) and falls back to these with too few groups.
TEACHER_PRIOR = 5.0
SCHOOL_PRIOR = 20.0
HALF_LIFE_DAYS = 180.0
ITERATIONS = 30


@dataclass(frozen=True)
class Score:
    teacher: int
    score: float
    low: float
    high: float
    ratings: int
    weight: float  # decayed weight of the ratings


def fit(
    teacher: np.ndarray,
    school: np.ndarray,
    stars: np.ndarray,
    age_days: np.ndarray | None = None,
    n_teachers: int | None = None,
    n_schools: int | None = None,
) -> tuple[dict[int, Score], np.ndarray, float]:
    """Scores for every teacher with ratings, the school offsets, and the district mean."""
    teacher = np.asarray(teacher, dtype=np.int64)
    school = np.asarray(school, dtype=np.int64)
    stars = np.asarray(stars, dtype=float)
    n_t = int(n_teachers if n_teachers is not None else (teacher.max() + 1 if len(teacher) else 0))
    n_s = int(n_schools if n_schools is not None else (school.max() + 1 if len(school) else 0))
    if len(stars) == 0:
        return {}, np.zeros(n_s), 0.0
    age = np.zeros(len(stars)) if age_days is None else np.asarray(age_days, dtype=float)
    w = 0.5 ** (np.maximum(age, 0.0) / HALF_LIFE_DAYS)
    mean = float(np.average(stars, weights=w))
    w_t = np.bincount(teacher, weights=w, minlength=n_t)
    w_s = np.bincount(school, weights=w, minlength=n_s)
    theta = np.zeros(n_t)
    beta = np.zeros(n_s)
    variance = 1.0
    teacher_prior, school_prior = TEACHER_PRIOR, SCHOOL_PRIOR
    for _ in range(ITERATIONS):
        beta = _shrunk(school, w * (stars - mean - theta[teacher]), w_s, n_s, school_prior)
        theta = _shrunk(teacher, w * (stars - mean - beta[school]), w_t, n_t, teacher_prior)
        residual = stars - mean - theta[teacher] - beta[school]
        variance = max(float(np.average(residual**2, weights=w)), 0.0625)
        # Empirical Bayes: how much schools (teachers) really differ decides how hard to shrink.
        school_prior = _prior(school, w * (stars - mean - theta[teacher]), w_s, n_s, variance, SCHOOL_PRIOR)
        teacher_prior = _prior(teacher, w * (stars - mean - beta[school]), w_t, n_t, variance, TEACHER_PRIOR)
    sigma = float(np.sqrt(variance))
    counts = np.bincount(teacher, minlength=n_t)
    scores = {}
    for t in np.flatnonzero(counts):
        se = sigma / np.sqrt(w_t[t] + teacher_prior)
        value = float(np.clip(mean + theta[t], 1.0, 5.0))
        scores[int(t)] = Score(
            teacher=int(t),
            score=value,
            low=float(max(1.0, value - 1.96 * se)),
            high=float(min(5.0, value + 1.96 * se)),
            ratings=int(counts[t]),
            weight=float(w_t[t]),
        )
    return scores, beta, mean


def _shrunk(group: np.ndarray, weighted: np.ndarray, total: np.ndarray, n: int, prior: float) -> np.ndarray:
    return np.bincount(group, weights=weighted, minlength=n) / (total + prior)


def _prior(
    group: np.ndarray, weighted: np.ndarray, total: np.ndarray, n: int, variance: float, fallback: float
) -> float:
    """variance / (spread of the true effects), the spread estimated by method of moments; at least 1 rating's worth."""
    seen = total > 0
    if seen.sum() < 3:
        return fallback
    raw = np.bincount(group, weights=weighted, minlength=n)[seen] / total[seen]
    spread = float(np.average(raw**2 - variance / total[seen], weights=total[seen]))
    return float(np.clip(variance / max(spread, 1e-4), 1.0, 1e4))


def plain_average(teacher: np.ndarray, stars: np.ndarray, n_teachers: int) -> np.ndarray:
    """The naive score: each teacher's mean stars (NaN without ratings)."""
    teacher = np.asarray(teacher, dtype=np.int64)
    total = np.bincount(teacher, weights=np.asarray(stars, dtype=float), minlength=n_teachers)
    count = np.bincount(teacher, minlength=n_teachers)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def ranking(scores: dict[int, Score]) -> list[Score]:
    """Best first by the interval's lower end, then the score."""
    return sorted(scores.values(), key=lambda s: (-s.low, -s.score, s.teacher))
