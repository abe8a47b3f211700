"""Benchmark of the teacher score: corrected score vs plain average against a known true quality.

Simulated district: each teacher has a true quality, each school a generosity
(how much its students over- or under-rate everyone), and teachers teach at one
to three nearby schools. Students' stars = 3.6 + quality + generosity + noise,
rounded and clipped to 1..5; some teachers have many ratings, many have few.
The ranking that matters is by quality, so we report Kendall's tau of each
score with the true quality, over many seeds.

    .venv/bin/python bench/ratings.py [--seeds 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ratings.score import fit, plain_average  # noqa: E402


def simulate(seed: int, n_teachers: int = 300, n_schools: int = 60, generosity_sd: float = 0.5):
    rng = np.random.default_rng(seed)
    quality = rng.normal(0.0, 0.5, n_teachers)
    generosity = rng.normal(0.0, generosity_sd, n_schools)
    school_xy = rng.uniform(0, 50, (n_schools, 2))
    home_xy = rng.uniform(0, 50, (n_teachers, 2))
    teacher, school, stars, age = [], [], [], []
    for t in range(n_teachers):
        near = np.argsort(((school_xy - home_xy[t]) ** 2).sum(axis=1))[: rng.integers(1, 4)]
        count = 1 + int(rng.lognormal(2.0, 1.0))  # a long tail: many teachers with a handful of ratings
        at = rng.choice(near, count)
        noise = rng.normal(0.0, 0.9, count)
        teacher.extend([t] * count)
        school.extend(at.tolist())
        stars.extend(np.clip(np.round(3.6 + quality[t] + generosity[at] + noise), 1, 5).tolist())
        age.extend(rng.uniform(0, 365, count).tolist())
    return quality, np.array(teacher), np.array(school), np.array(stars), np.array(age), n_schools


def one_seed(seed: int, generosity_sd: float) -> tuple[float, float]:
    quality, teacher, school, stars, age, n_schools = simulate(seed, generosity_sd=generosity_sd)
    scores, _offsets, _mean = fit(teacher, school, stars, age, n_teachers=len(quality), n_schools=n_schools)
    rated = np.array(sorted(scores))
    corrected = np.array([scores[t].score for t in rated])
    plain = plain_average(teacher, stars, len(quality))[rated]
    return kendalltau(corrected, quality[rated]).statistic, kendalltau(plain, quality[rated]).statistic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=50)
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print(
        f"{'school generosity sd':>21} {'seeds':>5} {'tau corrected':>14} {'tau plain avg':>14} {'corrected wins':>15}"
    )
    for sd in (0.0, 0.3, 0.5, 0.8):
        results = np.array([one_seed(seed, sd) for seed in range(args.seeds)])
        corrected, plain = results[:, 0], results[:, 1]
        print(f"{sd:>21.1f} {args.seeds:>5} {corrected.mean():>8.3f} ± {corrected.std():.3f} {plain.mean():>8.3f} ± {plain.std():.3f} "
              f"{(corrected > plain).mean():>14.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
