"""Which crawls a refresh builds, decided before any work, each with its reason.

A selected crawl is built when it is not published, when ``--rebuild`` names it, or when its
published folder is no longer what the ledger recorded. A published crawl built with another
recipe is refused (both digests named) unless rebuilt. With cross-crawl dedup, a published crawl
was deduplicated against the earlier crawls published then (its manifest's ``cross_crawl.against``,
with their manifests' sha256); if those changed, or one of them is built again in this run, its
documents are no longer what the rule says, and it is refused unless rebuilt too: a refresh never
rebuilds a published crawl the user did not ask for.

"Earlier" is by the crawl's capture window (``collinfo.json``'s from/to, kept in the ledger for
crawls no longer listed), and only crawls built the same way (the same build digest) are compared.
"""

import hashlib
import json
from dataclasses import dataclass, field

from transforms.common.errors import RecipeError
from transforms.writing.ledger import LedgerEntry

ALL = "all"
_QUALITY_RULE_KEYS = ("gopher_repetition", "gopher_quality", "c4", "fineweb_quality")


@dataclass(frozen=True)
class Published:
    """A crawl in the ledger, as its folder is now."""

    entry: LedgerEntry
    manifest_bytes: bytes | None  # None: its manifest.json is gone

    @property
    def intact(self) -> bool:
        return (self.manifest_bytes is not None
                and hashlib.sha256(self.manifest_bytes).hexdigest() == self.entry.manifest_sha256)

    @property
    def compared_with(self) -> list[dict] | None:
        if self.manifest_bytes is None:
            return None
        return (json.loads(self.manifest_bytes).get("cross_crawl") or {}).get("against")


@dataclass
class Plan:
    todo: list[str] = field(default_factory=list)  # oldest first
    why: dict[str, str] = field(default_factory=dict)
    with_skipped_files: list[str] = field(default_factory=list)  # published crawls that skipped inputs


def order_key(crawl: str, windows: dict[str, tuple[str, str]]) -> tuple:
    """Older crawls sort first: by the end, then the start of their capture window, then id."""
    start, end = windows.get(crawl, ("", ""))
    return (end, start, crawl)


def comparable_earlier(crawl: str, published: dict[str, Published], digest: str,
                       windows: dict[str, tuple[str, str]]) -> list[str]:
    """The published crawls a crawl is deduplicated against: older, built the same way, intact."""
    mine = order_key(crawl, windows)
    return sorted((c for c, p in published.items()
                   if order_key(c, windows) < mine and p.entry.build_sha256 == digest and p.intact),
                  key=lambda c: order_key(c, windows))


def make_plan(selected: list[str], published: dict[str, Published], digest: str, rebuild: list[str],
              cross_crawl: bool, windows: dict[str, tuple[str, str]], extractor: str | None = None,
              quality_rules: str | None = None) -> Plan:
    asked = set(selected) if ALL in rebuild else set(rebuild)
    plan, refused = Plan(), []
    for crawl in selected:  # oldest first
        done = published.get(crawl)
        if done is None:
            plan.todo.append(crawl)
            plan.why[crawl] = "not published yet"
        elif crawl in asked:
            plan.todo.append(crawl)
            plan.why[crawl] = "--rebuild"
        elif not done.intact:
            plan.todo.append(crawl)
            plan.why[crawl] = "its published folder is not what the ledger recorded (manifest missing or changed)"
        elif done.entry.build_sha256 != digest:
            refused.append((crawl, f"was built by another recipe (build digest now {digest[:16]}, then "
                                   f"{done.entry.build_sha256[:16]}){_extractor_hint(done, extractor)}"
                                   f"{_rules_hint(done, quality_rules)}"))
        elif cross_crawl and (stale := _stale_comparison(crawl, plan.todo, published, digest, windows)):
            refused.append((crawl, stale))
        elif done.entry.failed_shards:
            plan.with_skipped_files.append(crawl)
    if refused:
        crawls = [crawl for crawl, _ in refused]
        raise RecipeError(f"{crawls[0]} {refused[0][1]}"
                          + (f"; and {len(refused) - 1} more ({', '.join(crawls[1:])})" if len(refused) > 1 else "")
                          + f"; pass --rebuild {' --rebuild '.join(crawls)} (or --rebuild all), or restore the recipe")
    return plan


def _extractor_hint(done: Published, extractor: str | None) -> str:
    """Where the published crawl's extractor differs from this recipe's, say so: the default extractor
    changed once (resiliparse -> resiliparse_pruned), which changes the digest of a recipe naming none."""
    if extractor is None or done.manifest_bytes is None:
        return ""
    recipe = json.loads(done.manifest_bytes).get("recipe") or {}
    then = (recipe.get("extract") or {}).get("extractor")
    if not then or then == extractor:
        return ""
    return (f"; it was extracted by {then}, this recipe extracts by {extractor} (name extract.extractor: "
            f"{then} in the recipe to go on building the same dataset)")


def _rules_hint(done: Published, quality_rules: str | None) -> str:
    """Where the published crawl's quality rules were another code's, say so (warcforge 0.2.0 changed them)."""
    if quality_rules is None or done.manifest_bytes is None:
        return ""
    manifest = json.loads(done.manifest_bytes)
    then = manifest.get("quality_rules")
    if then is None:  # built before manifests named them: were any of those rules on?
        filters = (manifest.get("recipe") or {}).get("filters") or {}
        if not any((filters.get(rule) or {}).get("enabled") for rule in _QUALITY_RULE_KEYS):
            return ""
        then = "warcforge's own (before 0.2.0)"
    return "" if then == quality_rules else f"; its quality rules were {then}, these decide as {quality_rules}"


def _stale_comparison(crawl: str, building: list[str], published: dict[str, Published], digest: str,
                      windows: dict[str, tuple[str, str]]) -> str | None:
    """Why a published crawl's cross-crawl dedup no longer holds, or None if it does."""
    earlier_built = [c for c in building if order_key(c, windows) < order_key(crawl, windows)]
    if earlier_built:
        return f"was deduplicated against earlier crawls, and this run builds {', '.join(earlier_built)} before it"
    expected = [{"crawl": c, "manifest_sha256": published[c].entry.manifest_sha256}
                for c in comparable_earlier(crawl, published, digest, windows)]
    if published[crawl].compared_with != expected:
        return "was deduplicated against other earlier crawls than are published now"
    return None
