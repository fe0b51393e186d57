"""The recipe's ``refresh`` section: which crawls ``warcforge refresh`` builds and publishes.

A refresh recipe is a build recipe whose ``input`` names a crawl source without a crawl
(``kind``, ``base``, ``first``/``sample``/``files``); the refresh picks the crawls. ``since``
(that crawl and every newer one) and ``newest`` (the newest N) may be combined; ``crawls`` names
them instead.
"""

from typing import Literal

from pydantic import Field, model_validator

from beam_jobs.recipe_filters import RecipeSection
from transforms.reading.common_crawl import CRAWL_ID

# The keys that choose crawls. They do not change how one crawl is built, so a recipe whose only
# change is here keeps its published crawls (see Recipe.build_digest).
SELECTION_KEYS = ("since", "newest", "crawls")


class RefreshConfig(RecipeSection):
    since: str | None = Field(None, pattern=CRAWL_ID.pattern,
                              description="Build this crawl and every newer one, e.g. CC-MAIN-2025-05.")
    newest: int | None = Field(None, ge=1,
                               description="Build the newest N crawls (with since: the newest N of those).")
    crawls: list[str] | None = Field(None, min_length=1, description="Build exactly these crawls.")
    cross_crawl_dedup: Literal["off", "exact", "near"] = Field(
        "off", description="Drop documents an earlier published crawl under ROOT holds: the same normalized text "
        "(exact) or a shared MinHash band (near, with dedup.near on). FineWeb found deduplicating across crawls "
        "hurt model quality, so each crawl stands alone by default.")

    @model_validator(mode="after")
    def one_selection(self) -> "RefreshConfig":
        if self.crawls is not None:
            bad = [c for c in self.crawls if not CRAWL_ID.match(c)]
            if bad:
                raise ValueError(f"'crawls' holds {bad[0]!r}, which is not a crawl id such as CC-MAIN-2025-05")
            if self.since is not None or self.newest is not None:
                raise ValueError("'crawls' names the crawls; it cannot be combined with 'since' or 'newest'")
        elif self.since is None and self.newest is None:
            raise ValueError("say which crawls: 'since', 'newest' (or both), or 'crawls'")
        return self
