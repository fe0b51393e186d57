"""datatrove 0.10.1's quality filters on given texts, in a virtual environment of their own.

datatrove's pins must not move Beam's, so it is installed once per release under
~/.cache/warcforge/datatrove-0.10.1 (``WARCFORGE_CACHE`` moves the folder; about a minute from the
package index; a ``.installed`` marker says the install finished) and run there as a separate process.
It reads the texts from a JSON-lines file and writes, per text: each filter's verdict on the text
itself; the first filter that drops it when they run in FineWeb's order, C4's kept lines feeding
FineWeb's filter; spaCy's words; and the CPU time of both ways of running them.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DATATROVE = "0.10.1"
SPACY = "3.8.18"
CACHE = Path(os.environ.get("WARCFORGE_CACHE", Path.home() / ".cache" / "warcforge"))
FILTERS = ("gopher_repetition", "gopher_quality", "c4", "fineweb_quality")

# Run by the reference environment's Python: argv[1] texts in, argv[2] verdicts out.
RUNNER = """
import json, sys, time
from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.utils.text import split_into_parts, split_into_words

FILTERS = [("gopher_repetition", GopherRepetitionFilter()), ("gopher_quality", GopherQualityFilter()),
           ("c4", C4QualityFilter(filter_no_terminal_punct=False)), ("fineweb_quality", FineWebQualityFilter())]


def verdict(step, doc):
    result = step.filter(doc)
    return [True, None] if result is True else [False, result[1]] if isinstance(result, tuple) else [bool(result), None]


def in_order(text):
    doc = Document(text=text, id="0")  # C4's filter rewrites doc.text: FineWeb's reads what it kept
    for name, step in FILTERS:
        kept, reason = verdict(step, doc)
        if not kept:
            return [name, reason]
    return None


def each(text):
    return {name: verdict(step, Document(text=text, id="0")) for name, step in FILTERS}


texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
in_order("Warm the tokenizer up. " * 20)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for text in texts:
        split_into_parts.cache_clear()  # datatrove keeps the last texts' words: time each way from scratch
        started = time.process_time()
        first = in_order(text)
        in_order_s = time.process_time() - started
        split_into_parts.cache_clear()
        started = time.process_time()
        verdicts = each(text)
        each_s = time.process_time() - started
        out.write(json.dumps({"first": first, "each": verdicts, "words": split_into_words(text),
                              "in_order_s": in_order_s, "each_s": each_s}) + "\\n")
"""


def reference_python() -> Path:
    """The Python of the datatrove environment, made on first use."""
    venv = CACHE / f"datatrove-{DATATROVE}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        print(f"installing datatrove {DATATROVE} and spaCy {SPACY} into {venv} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"datatrove[processing,io]=={DATATROVE}",
                        f"spacy=={SPACY}"], check=True, timeout=1800)
        (venv / ".installed").touch()
    return python


def versions(python: Path) -> dict[str, str]:
    code = ("import json, importlib.metadata as m; "
            "print(json.dumps({p: m.version(p) for p in ('datatrove', 'spacy')}))")
    return json.loads(subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout)


def reference_verdicts(texts: list[str]) -> list[dict]:
    """datatrove's verdicts, words and CPU seconds for each text, in order."""
    python = reference_python()
    with tempfile.TemporaryDirectory(prefix="warcforge-parity-") as tmp:
        texts_in, verdicts_out = Path(tmp) / "texts.jsonl", Path(tmp) / "verdicts.jsonl"
        texts_in.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        (Path(tmp) / "runner.py").write_text(RUNNER)
        subprocess.run([str(python), str(Path(tmp) / "runner.py"), str(texts_in), str(verdicts_out)], check=True,
                       timeout=3600)
        return [json.loads(line) for line in verdicts_out.read_text(encoding="utf-8").splitlines()]
