"""MinHash signatures and LSH bands for near-duplicate detection, vectorised with numpy.

Text is normalized (lower case, accents and punctuation removed, digits folded to 0, white space
collapsed), cut into word 5-grams, and each 5-gram hashed to 64 bits (a polynomial hash per word,
all words at once in numpy, combined per window with fixed odd multipliers). Each of
``bands * rows`` permutations is the affine map ``a * x + b`` modulo 2^64 with fixed seeded
constants; a document's signature holds the minimum per permutation. Band ``i`` of a signature
is its rows ``i*rows .. (i+1)*rows`` hashed to one 64-bit key: two documents share a bucket when
they agree on a whole band, which happens with probability ``1 - (1 - s^rows)^bands`` for
Jaccard similarity ``s``.
"""

import re
import unicodedata

import numpy as np
import xxhash

from transforms.dedup.codepoint_classes import COMBINING, DIGIT, WORD, code_point_classes

_SEPARATORS = re.compile(r"[\W_]+")  # punctuation and white space, runs of them, in one pass
_DIGIT = re.compile(r"\d")
# Combining marks left by NFKD decomposition (accents), removed in one C-speed pass.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_P = 0x100000001B3
_P_INVERSE = pow(_P, -1, 2**64)
_WINDOW_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5, 0xFF51AFD7ED558CCD,
     0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9, 0x2545F4914F6CDD1D, 0x9FB21C651E98DF25],
    dtype=np.uint64)
# Recipes may ask for n-grams up to 50 words: positions past the ten fixed multipliers get odd
# constants from a fixed seed, so every n keeps its own multiplier per position.
_WINDOW_MULTIPLIERS = np.concatenate((_WINDOW_MULTIPLIERS, np.random.Generator(np.random.PCG64(5)).integers(
    0, 2**63, size=40, dtype=np.uint64) * np.uint64(2) + np.uint64(1)))


def normalize_for_minhash(text: str) -> str:
    """The normalization as text: what ``text_word_hashes`` computes on code points, spelled out."""
    without_accents = _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower()))
    return _DIGIT.sub("0", _SEPARATORS.sub(" ", without_accents)).strip()


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """P^i and P^-i modulo 2^64 for i < length. Tables up to _KEPT_POWERS long are grown and kept,
    so a document does not pay for them; a longer text pays for its own and they are dropped."""
    global _POWER_TABLES
    powers, inverses = _POWER_TABLES  # one tuple, swapped whole: threads never see half of a growth
    if powers.size < length:
        size = min(max(length, 2 * powers.size), _KEPT_POWERS) if length <= _KEPT_POWERS else length
        powers = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, _P, dtype=np.uint64))))
        inverses = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, _P_INVERSE, dtype=np.uint64))))
        if size <= _KEPT_POWERS:
            _POWER_TABLES = (powers, inverses)
    return powers[:length], inverses


_KEPT_POWERS = 1 << 20  # 16 MB of tables for texts up to a million code points
_POWER_TABLES = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))


def _hash_words(code_points: np.ndarray, is_word: np.ndarray) -> np.ndarray:
    """A 64-bit hash per run of word characters: a polynomial hash of its code points, computed as
    prefix sums over the whole text and shifted back to each word's start."""
    if not is_word.any():
        return np.zeros(0, dtype=np.uint64)
    starts = np.flatnonzero(is_word & ~np.concatenate(([False], is_word[:-1])))
    powers, inverses = _powers(code_points.size)
    contributions = np.where(is_word, (code_points.astype(np.uint64) + np.uint64(1)) * powers, np.uint64(0))
    hashes = np.add.reduceat(contributions, starts) * inverses[starts]
    # A final mix, so that short words do not give small, clustered values.
    hashes ^= hashes >> np.uint64(31)
    return hashes * np.uint64(0xBF58476D1CE4E5B9)


def word_hashes(normalized: str) -> np.ndarray:
    """A 64-bit hash per space-separated word of an already normalized text."""
    code_points = np.frombuffer(normalized.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return _hash_words(code_points, code_points != 32)


def text_word_hashes(text: str) -> np.ndarray:
    """``word_hashes(normalize_for_minhash(text))``, with the normalization done on code points by
    table lookup rather than by three regular-expression passes over the text."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    code_points = np.frombuffer(decomposed.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = code_point_classes(_SEPARATORS, _DIGIT, _COMBINING)[code_points]
    kept = (classes & COMBINING) == 0
    code_points, classes = code_points[kept], classes[kept]
    code_points = np.where((classes & DIGIT) != 0, np.uint32(48), code_points)  # every digit becomes "0"
    return _hash_words(code_points, (classes & WORD) != 0)


def shingles(text: str, ngram: int = 5) -> np.ndarray:
    """64-bit hashes of the text's word n-grams in text order, repeats kept (a signature's minimum
    does not change with repeats); a text shorter than ``ngram`` words is one shingle."""
    ids = text_word_hashes(text)
    if ids.size == 0:
        return ids
    n = min(ngram, len(ids))
    count = len(ids) - n + 1
    hashes = np.zeros(count, dtype=np.uint64)
    for k in range(n):
        hashes = (hashes ^ (ids[k: k + count] * _WINDOW_MULTIPLIERS[k])) * np.uint64(0x100000001B3)
    return hashes


def shingle_hashes(text: str, ngram: int = 5) -> np.ndarray:
    """The distinct shingles of the text: the set that Jaccard similarity is defined on."""
    return np.unique(shingles(text, ngram))


class MinHasher:
    def __init__(self, bands: int = 14, rows: int = 8, seed: int = 1) -> None:
        self.bands, self.rows = bands, rows
        rng = np.random.Generator(np.random.PCG64(seed))
        size = bands * rows
        self.a = rng.integers(1, 2**63, size=size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
        self.b = rng.integers(0, 2**63, size=size, dtype=np.uint64)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        if shingles.size == 0:
            return np.full(self.bands * self.rows, np.iinfo(np.uint64).max, dtype=np.uint64)
        # (permutations x shingles), in blocks so one huge document cannot take much memory; the
        # products are written into one preallocated block (temporaries cost 3x the arithmetic).
        size = self.bands * self.rows
        result = np.full(size, np.iinfo(np.uint64).max, dtype=np.uint64)
        block = np.empty((size, min(shingles.size, 4096)), dtype=np.uint64)
        for start in range(0, shingles.size, 4096):
            chunk = shingles[start: start + 4096]
            view = block[:, : chunk.size]
            np.multiply(self.a[:, None], chunk[None, :], out=view)
            np.add(view, self.b[:, None], out=view)
            np.minimum(result, view.min(axis=1), out=result)
        return result

    def band_keys(self, signature: np.ndarray) -> list[int]:
        rows = signature.reshape(self.bands, self.rows)
        return [xxhash.xxh3_64_intdigest(rows[i].tobytes()) for i in range(self.bands)]

    def bucket_keys(self, signature: np.ndarray) -> bytes:
        """One 8-byte key per LSH bucket ``(band, band key)``, all of them concatenated (``bands * 8``
        bytes): ``bucket_key`` of each band."""
        return b"".join(bucket_key(band, key) for band, key in enumerate(self.band_keys(signature)))


BUCKET_KEY_BYTES = 8
_BAND_STRIDE = 0x9E3779B97F4A7C15  # odd: adding a multiple of it per band is a bijection of each band's keys


def bucket_key(band: int, key: int) -> bytes:
    """The bucket ``(band, key)`` in 8 bytes: the band key shifted by a fixed odd stride per band.
    Within a band two documents share a bucket exactly when they share the band key, as with
    ``(band, key)``; keys of two different bands coincide with probability 2^-64 a pair, and such
    a coincidence joins two documents into one bucket like any 64-bit hash collision would."""
    return ((key + band * _BAND_STRIDE) % 2**64).to_bytes(BUCKET_KEY_BYTES, "big")


def s_curve(similarity: float, bands: int, rows: int) -> float:
    """Probability that two documents of Jaccard ``similarity`` share at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.union1d(a, b).size
    return np.intersect1d(a, b).size / union if union else 1.0
