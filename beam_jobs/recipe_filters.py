"""The recipe's ``filters`` section: one switchable block per rule, defaults from the rule modules.

Every threshold's default is the published value its rule module names (Gopher/MassiveText, C4,
FineWeb); the defaults are read from those modules, so there is one source for each number.
"""

from pydantic import BaseModel, ConfigDict, Field

from transforms.filters.c4 import C4Params
from transforms.filters.fineweb_quality import FineWebQualityParams
from transforms.filters.gopher_quality import GopherQualityParams
from transforms.filters.gopher_repetition import GopherRepetitionParams

_GQ, _GR, _C4, _FW = GopherQualityParams(), GopherRepetitionParams(), C4Params(), FineWebQualityParams()


class RecipeSection(BaseModel):
    """Every recipe block: unknown keys are errors, types are not coerced, values do not change."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


_Section = RecipeSection


class UrlFilterConfig(_Section):
    """Lists are local files or URLs; a relative path resolves against the recipe's folder."""

    enabled: bool = False
    domains: list[str] = Field([], description="Files or URLs listing blocked domains (subdomains blocked too).")
    urls: list[str] = Field([], description="Files or URLs listing blocked URLs (without scheme and www.).")
    words: list[str] = Field([], description="Files or URLs listing banned URL tokens.")
    subwords: list[str] = Field([], description="Files or URLs listing banned URL substrings.")


class LanguageConfig(_Section):
    enabled: bool = False
    keep: list[str] = Field([], description="ISO 639 codes to keep (fastText lid.176 labels); empty keeps all.")
    min_score: float = Field(0.65, ge=0, le=1, description="FineWeb kept English at 0.65.")
    max_chars: int = Field(1000, ge=1, description="Characters of each document the model reads (the start).")


class GopherQualityConfig(_Section):
    enabled: bool = False
    min_words: int = Field(_GQ.min_words, ge=0)
    max_words: int = Field(_GQ.max_words, ge=0)
    min_mean_word_length: float = Field(_GQ.min_mean_word_length, ge=0)
    max_mean_word_length: float = Field(_GQ.max_mean_word_length, ge=0)
    max_symbol_word_ratio: float = Field(_GQ.max_symbol_word_ratio, ge=0)
    max_bullet_lines_ratio: float = Field(_GQ.max_bullet_lines_ratio, ge=0, le=1)
    max_ellipsis_lines_ratio: float = Field(_GQ.max_ellipsis_lines_ratio, ge=0, le=1)
    min_alpha_words_ratio: float = Field(_GQ.min_alpha_words_ratio, ge=0, le=1)
    min_stop_words: int = Field(_GQ.min_stop_words, ge=0)
    stop_words: list[str] = Field(sorted(_GQ.stop_words))

    def params(self) -> GopherQualityParams:
        values = self.model_dump(exclude={"enabled", "stop_words"})
        return GopherQualityParams(**values, stop_words=frozenset(self.stop_words))


class GopherRepetitionConfig(_Section):
    enabled: bool = False
    max_dup_line_ratio: float = Field(_GR.max_dup_line_ratio, ge=0, le=1)
    max_dup_line_char_ratio: float = Field(_GR.max_dup_line_char_ratio, ge=0, le=1)
    max_dup_paragraph_ratio: float = Field(_GR.max_dup_paragraph_ratio, ge=0, le=1)
    max_dup_paragraph_char_ratio: float = Field(_GR.max_dup_paragraph_char_ratio, ge=0, le=1)
    max_top_ngram_char_ratio: dict[int, float] = Field(_GR.max_top_ngram_char_ratio)
    max_dup_ngram_char_ratio: dict[int, float] = Field(_GR.max_dup_ngram_char_ratio)

    def params(self) -> GopherRepetitionParams:
        return GopherRepetitionParams(**self.model_dump(exclude={"enabled"}))


class C4Config(_Section):
    enabled: bool = False
    max_word_length: int = Field(_C4.max_word_length, ge=1)
    min_words_per_line: int = Field(_C4.min_words_per_line, ge=0)
    require_terminal_punctuation: bool = _C4.require_terminal_punctuation
    drop_javascript_lines: bool = _C4.drop_javascript_lines
    drop_policy_lines: bool = _C4.drop_policy_lines
    remove_citations: bool = _C4.remove_citations
    drop_lorem_ipsum: bool = _C4.drop_lorem_ipsum
    drop_curly_bracket: bool = _C4.drop_curly_bracket
    min_sentences: int = Field(_C4.min_sentences, ge=0)

    def params(self) -> C4Params:
        return C4Params(**self.model_dump(exclude={"enabled"}))


class FineWebQualityConfig(_Section):
    enabled: bool = False
    min_terminal_punctuation_lines_ratio: float = Field(_FW.min_terminal_punctuation_lines_ratio, ge=0, le=1)
    short_line_length: int = Field(_FW.short_line_length, ge=0)
    max_short_lines_ratio: float = Field(_FW.max_short_lines_ratio, ge=0, le=1)
    max_dup_line_char_ratio: float = Field(_FW.max_dup_line_char_ratio, ge=0, le=1)
    max_newline_word_ratio: float = Field(_FW.max_newline_word_ratio, ge=0)

    def params(self) -> FineWebQualityParams:
        return FineWebQualityParams(**self.model_dump(exclude={"enabled"}))


class PiiConfig(_Section):
    enabled: bool = False
    email_placeholder: str = "email@example.com"
    ip_placeholder: str = Field("192.0.2.0", description="A documentation address (RFC 5737): no one's.")


class FiltersConfig(_Section):
    url: UrlFilterConfig = UrlFilterConfig()
    language: LanguageConfig = LanguageConfig()
    gopher_repetition: GopherRepetitionConfig = GopherRepetitionConfig()
    gopher_quality: GopherQualityConfig = GopherQualityConfig()
    c4: C4Config = C4Config()
    fineweb_quality: FineWebQualityConfig = FineWebQualityConfig()
    pii: PiiConfig = PiiConfig()
    rejected_sample_rate: float = Field(
        0.0, ge=0, le=1, description="Fraction of removed documents written to rejected/ with filter_reason, "
        "chosen by id so the same ones every run.")

    def any_document_rule(self) -> bool:
        return any(block.enabled for block in (self.url, self.language, self.gopher_repetition,
                                               self.gopher_quality, self.c4, self.fineweb_quality))
