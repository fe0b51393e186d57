"""The dataset card: the ``README.md`` every build publishes beside its manifest.

A Hugging Face Hub dataset card: YAML front matter the Hub reads (the ``default`` config's data
files, license, task, size and languages), then a body written from the manifest alone (recipe,
funnel, languages, inputs, files, versions, how to rebuild). A pure function of the manifest:
the same manifest gives the same bytes, so the card is as deterministic as the data it describes.
"""

import re

import yaml

from beam_jobs.run_report import STAGES
from transforms.common import reasons

TERMS_NAME = "common-crawl-terms-of-use"
TERMS_URL = "https://commoncrawl.org/terms-of-use"
DATA_FILES = "data/*.parquet"
POINTER_FILES = "pointers/*.parquet"
LOCK_FILE = "warcforge.lock"
FLOW_WIDTH = 80  # the recipe's mappings and lists of plain values up to this wide go on one line
# The Hub's size buckets: (upper bound, exclusive; label).
SIZE_CATEGORIES = (
    (10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"), (10**7, "1M<n<10M"),
    (10**8, "10M<n<100M"), (10**9, "100M<n<1B"), (10**10, "1B<n<10B"), (10**11, "10B<n<100B"),
    (10**12, "100B<n<1T"),
)
SECTIONS = (("data", "documents"), ("dead_letter", "records that could not be read or extracted"),
            ("rejected", "a sample of documents the filters removed, with the reason"),
            ("index", "this crawl's dedup keys, for later crawls"),
            ("pointers", "per document: where its record lies and its text's sha256 (no text)"),
            ("rejected_pointers", "pointers to a sample of documents the filters removed"),
            ("missing", "pointers materialize could not bring back, with the reason"))


def dataset_card(manifest: dict) -> str:
    """The card's Markdown text, front matter first."""
    recipe = manifest.get("recipe") or {}
    name = _one_line(str(recipe.get("name") or "warcforge dataset"))
    languages = manifest.get("counts", {}).get(reasons.LANGUAGES) or {}
    pointers = "pointers" in manifest.get("files", {})
    data_files = POINTER_FILES if pointers else DATA_FILES
    front = {
        "pretty_name": name,
        "license": "other",
        "license_name": TERMS_NAME,
        "license_link": TERMS_URL,
        "task_categories": ["text-generation"],
        "size_categories": [size_category(manifest.get("documents", 0))],
        **({"language": sorted(languages)} if languages else {}),
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": data_files}]}],
    }
    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n"), "---", ""]
    lines += [f"# {name}", ""]
    if recipe.get("description"):
        lines += [str(recipe["description"]).strip(), ""]
    lines += [
        f"{manifest.get('documents', 0):,} pointers to documents of web text in `{data_files}`: where each "
        "document's record lies in the public web archive (WARC) files, and its text's sha256, without the text. "
        "`warcforge materialize` fetches the records and rebuilds the documents (see below)."
        if pointers else
        f"{manifest.get('documents', 0):,} documents of web text in `{data_files}` (split `train`), built by "
        "warcforge from web archive (WARC) files with the recipe below. The same recipe "
        "over the same inputs and package versions gives these exact bytes.",
        "",
        "## License and source",
        "",
        "The text comes from [Common Crawl](https://commoncrawl.org)'s web crawl data and is subject to "
        f"Common Crawl's [terms of use]({TERMS_URL}). The pages' own rights stay with their authors; this card "
        "grants no further rights.",
        "",
    ]
    lines += _files(manifest) + _funnel(manifest) + _languages(recipe, languages) + _inputs(manifest, recipe)
    lines += _recipe(manifest, recipe) + _versions(manifest) + _rebuild(manifest)
    return "\n".join(lines).rstrip("\n") + "\n"


def size_category(n: int) -> str:
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    return "n>1T"


def _files(manifest: dict) -> list[str]:
    files = manifest.get("files", {})
    lines = ["## Files", "", "| folder | files | rows | bytes | holds |", "| --- | ---: | ---: | ---: | --- |"]
    for section, holds in SECTIONS:
        entries = files.get(section)
        if entries:
            lines.append(f"| `{section}/` | {len(entries):,} | {sum(f['rows'] for f in entries):,} | "
                         f"{sum(f['bytes'] for f in entries):,} | {holds} |")
    lines += ["", "`manifest.json` lists every file with its row count and sha256; `stats.json` holds the counts "
              "below; `inputs.json` the input files.", ""]
    return lines


def _funnel(manifest: dict) -> list[str]:
    counts = manifest.get("counts", {})
    lines = ["## Funnel", "",
             "What each stage took in (`in`), passed on (`out`), and why it removed the rest.", "",
             "| stage | reason | count |", "| --- | --- | ---: |"]
    for stage in STAGES:
        by_reason = counts.get(stage, {})
        order = sorted(by_reason, key=lambda r: (r != reasons.IN, r == reasons.OUT, r))
        lines += [f"| {_cell(stage)} | {_cell(r)} | {by_reason[r]:,} |" for r in order]
    failed = manifest.get("failed_shards") or []
    if failed:
        lines += ["", f"{len(failed):,} input files failed and were skipped (`failed_shards` in `manifest.json`)."]
    return lines + [""]


def _languages(recipe: dict, languages: dict[str, int]) -> list[str]:
    rule = (recipe.get("filters") or {}).get("language") or {}
    lines = ["## Languages", ""]
    if languages:
        keep = ", ".join(f"`{k}`" for k in rule.get("keep") or []) or "any language"
        lines += [f"Identified by fastText (lid.176) on each document's first {rule.get('max_chars', 0):,} "
                  f"characters; kept: {keep}, with a score of at least {rule.get('min_score', '?')}.", "",
                  "| language | documents |", "| --- | ---: |"]
        lines += [f"| {_cell(lang)} | {n:,} |" for lang, n in sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))]
    elif rule.get("enabled"):
        lines.append("The language filter is on, but no document was published.")
    else:
        lines.append("Language was not identified: the recipe's language filter is off (the `language` column is "
                     "empty).")
    return lines + [""]


def _inputs(manifest: dict, recipe: dict) -> list[str]:
    inputs = manifest.get("inputs") or []
    sizes = [i.get("size") for i in inputs]
    unknown = sum(s is None for s in sizes)
    line = f"{len(inputs):,} input files, {_size(sum(s for s in sizes if s is not None))}"
    line += f" (the size of {unknown:,} is not known)." if unknown else "."
    source = recipe.get("input") or {}
    if source.get("crawl"):
        line += f" From Common Crawl's crawl {_code(source['crawl'])} ({_code(source.get('kind', 'warc'))} files)."
    elif manifest.get("input_root"):
        line += f" Under {_code(manifest['input_root'])}."
    compared = manifest.get("cross_crawl")
    if compared:
        against = ", ".join(_code(c) for c in compared.get("against") or []) or "none (the first crawl)"
        line += f" Documents published by earlier crawls were removed ({compared.get('mode')}): {against}."
    return ["## Inputs", "", line + " `inputs.json` lists them.", ""]


class _RecipeDumper(yaml.SafeDumper):
    """safe_dump's output, but a short mapping or list of plain values (or of lists) is written on one line."""


def _flat(data: dict | list) -> bool:
    values = data.values() if isinstance(data, dict) else data
    return (not any(isinstance(v, dict) and v for v in values)
            and len(yaml.safe_dump(data, default_flow_style=True, width=10**6)) <= FLOW_WIDTH)


_RecipeDumper.add_representer(dict, lambda dumper, data: dumper.represent_mapping(
    "tag:yaml.org,2002:map", data, flow_style=_flat(data)))
_RecipeDumper.add_representer(list, lambda dumper, data: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", data, flow_style=_flat(data)))


def recipe_yaml(recipe: dict) -> str:
    """The recipe as ``warcforge build --config`` reads it, keys sorted."""
    return yaml.dump(_yaml_keys(recipe), Dumper=_RecipeDumper, sort_keys=True, allow_unicode=True, width=1000)


def _recipe(manifest: dict, recipe: dict) -> list[str]:
    text = recipe_yaml(recipe)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    lines = ["## Recipe", "", f"Recipe sha256: `{manifest.get('recipe_sha256', '')}`"]
    if manifest.get("lock_sha256"):
        lines.append(f"Lock (`{LOCK_FILE}`, beside this card) sha256: `{manifest['lock_sha256']}`")
    return lines + ["", f"{fence}yaml", text.rstrip("\n"), fence, ""]


def _versions(manifest: dict) -> list[str]:
    versions = manifest.get("versions") or {}
    lines = ["## Versions", "", "| package | version |", "| --- | --- |"]
    return lines + [f"| {_cell(k)} | {_cell(v)} |" for k, v in sorted(versions.items())] + [""]


def _rebuild(manifest: dict) -> list[str]:
    lines = ["## How to rebuild", ""]
    if "pointers" in manifest.get("files", {}):
        return lines + ["Fetch the records these pointers name and rebuild the documents, checked against each "
                        "pointer's sha256 and, file by file, against the full dataset's manifest:", "",
                        "```sh", "warcforge materialize THIS_FOLDER --output DIR", "warcforge verify DIR", "```"]
    if manifest.get("lock_sha256"):
        return lines + ["With the lock published beside this card, then check the result against its manifest:", "",
                        "```sh", f"warcforge build --lock {LOCK_FILE} --output DIR", "warcforge verify DIR", "```"]
    return lines + ["Save the recipe above as `recipe.yaml` (relative input paths resolve against its folder), "
                    "install the versions above, and run:", "",
                    "```sh", "warcforge build --config recipe.yaml --output DIR", "```"]


def _yaml_keys(value: object) -> object:
    """JSON gives every key as a string: integer keys (n-gram sizes) go back to integers, as the recipe reads them."""
    if isinstance(value, dict):
        return {int(k) if isinstance(k, str) and re.fullmatch("[0-9]+", k) else k: _yaml_keys(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_keys(v) for v in value]
    return value


def _size(n: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _code(text: object) -> str:
    """Inline code that a backtick in ``text`` does not end."""
    text = _one_line(str(text))
    ticks = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{ticks} {text} {ticks}" if "`" in text else f"`{text}`"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _cell(value: object) -> str:
    """A Markdown table cell: one line, and a ``|`` is text, not a column."""
    return _one_line(str(value)).replace("\\", "\\\\").replace("|", "\\|")
