"""Planted near-duplicate pairs at known Jaccard similarity, for the LSH tests and the benchmark."""

import random

import numpy as np

from transforms.dedup.minhash import jaccard, shingle_hashes

VOCABULARY = [f"{a}{b}{c}" for a in "bcdfghklmnprstvz" for b in "aeiou" for c in ("", "n", "r", "s", "l", "m")]


def planted_pairs(count: int, seed: int = 7, words: int = 300) -> list[tuple[str, str, float]]:
    """(text A, text B, exact Jaccard of their 5-gram shingles), replacement rates from 0 to 15 %."""
    rng = random.Random(seed)
    pairs = []
    for i in range(count):
        original = [rng.choice(VOCABULARY) for _ in range(words)]
        rate = 0.15 * i / max(1, count - 1)
        copy = [rng.choice(VOCABULARY) if rng.random() < rate else w for w in original]
        a, b = " ".join(original), " ".join(copy)
        pairs.append((a, b, jaccard(shingle_hashes(a), shingle_hashes(b))))
    return pairs


def bins(edges: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)) -> list[tuple[float, float]]:
    return list(zip(edges, edges[1:], strict=False))


def by_bin(pairs: list, similarity: np.ndarray, detected: np.ndarray, theory: np.ndarray) -> list[dict]:
    rows = []
    for low, high in bins():
        mask = (similarity >= low) & (similarity < high)
        if mask.sum():
            rows.append({"bin": f"{low:.1f}-{min(high, 1.0):.1f}", "pairs": int(mask.sum()),
                         "detected": float(detected[mask].mean()), "expected": float(theory[mask].mean())})
    return rows
