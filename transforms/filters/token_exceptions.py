"""The words the English word splitter (``word_tokens``) cuts by a table instead of by its affix rules.

They are the special cases of spaCy's blank English tokenizer, which datatrove's Gopher and FineWeb
filters use: contractions ("don't" is "do" + "n't", "cannot" is "can" + "not", "dont" is "do" +
"nt"), a few abbreviations that keep their full stop ("Mr.", "e.g.", "U.S." needs none), times
("5pm" is "5" + "pm") and emoticons kept whole. Written out here as rules that produce the same table;
each entry maps a whole string to the tokens it becomes. The table is built once, at import.
"""

_PRONOUNS = ("i", "you", "he", "she", "it", "we", "they")
_W_WORDS_SINGULAR = ("who", "what", "when", "where", "why", "how", "there", "that", "this")
_W_WORDS_PLURAL = ("these", "those")
_N_T_VERBS = ("ca", "could", "do", "does", "did", "had", "may", "might", "must", "need", "ought", "sha", "should",
              "wo", "would")
_N_T_ONLY_VERBS = ("ai", "are", "is", "was", "were", "have", "has", "dare")
_HAVE_VERBS = ("could", "might", "must", "should", "would")
_DROPPED_G = ("doin", "goin", "nothin", "nuthin", "ol", "somethin", "lovin", "havin")
_LEADING_APOSTROPHE = ("em", "ll", "nuff")
# Strings spaCy leaves whole although the rules above would cut them: ordinary words.
_NOT_CONTRACTIONS = frozenset({"Ill", "ill", "Its", "its", "Hell", "hell", "Shell", "shell", "Shed", "shed", "were",
                               "Were", "Well", "well", "Whore", "whore"})
_WHOLE = (
    "'d", "'s", "'S", "\u2018s", "\u2018S", "'re", "'Cause", "'cause", "'cos", "'Cos", "'coz", "'Coz", "'cuz", "'Cuz",
    "'bout", "ma'am", "Ma'am", "o'clock", "O'clock", "and/or", "w/o", "C++", "'", "''", "a.m.", "p.m.",
    "Adm.", "Bros.", "co.", "Co.", "Corp.", "D.C.", "Dr.", "e.g.", "E.g.", "E.G.", "Gen.", "Gov.", "i.e.", "I.e.",
    "I.E.", "Inc.", "Jr.", "Ltd.", "Md.", "Messrs.", "Mo.", "Mont.", "Mr.", "Mrs.", "Ms.", "Ph.D.", "Prof.", "Rep.",
    "Rev.", "Sen.", "St.", "vs.", "v.s.", "Mt.",
    # months and US states, abbreviated
    "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.", "Dec.",
    "Ak.", "Ala.", "Ariz.", "Ark.", "Calif.", "Colo.", "Conn.", "Del.", "Fla.", "Ga.", "Ia.", "Id.", "Ill.", "Ind.",
    "Kan.", "Kans.", "Ky.", "La.", "Mass.", "Mich.", "Minn.", "Miss.", "N.C.", "N.D.", "N.H.", "N.J.", "N.M.", "N.Y.",
    "Neb.", "Nebr.", "Nev.", "Okla.", "Ore.", "Pa.", "S.C.", "Tenn.", "Va.", "Wash.", "Wis.",
    # emoticons that occur in web text (spaCy's table has more)
    ":)", ":-)", ":(", ":-(", ";)", ";-)", ":D", ":-D", ":P", ":-P", ":p", ":-p", ":/", ":-/", ":'(", ":|", ":o",
    ":O", ":x", ":X", ":3", ":*", ":0", ":1", ":]", "[:", "(:", "):", "=)", "(=", "=(", "=]", "=[", "=/", "=|", "8)",
    "8-)", "xD", "XD", "<3", "^_^", "-_-", "o_O", "O_o", "o.O", "O.o", "0.0", "o.o", "O.O", "v.v", ">.<", ":->",
    ";_;", ";D", ":-)))", "(-;", ":-*",
    # spaCy's whole strings for escaped characters
    '\\")', "<space>", "\\t", "\\n", "\u2014",
)
_SPLIT = {
    "y'all": ("y'", "all"), "yall": ("y", "all"), "how'd'y": ("how", "'d", "'y"), "How'd'y": ("How", "'d", "'y"),
    "not've": ("not", "'ve"), "notve": ("not", "ve"), "Not've": ("Not", "'ve"), "Notve": ("Not", "ve"),
    "cannot": ("can", "not"), "Cannot": ("Can", "not"), "gonna": ("gon", "na"), "Gonna": ("Gon", "na"),
    "gotta": ("got", "ta"), "Gotta": ("Got", "ta"), "let's": ("let", "'s"), "Let's": ("Let", "'s"),
    "c'mon": ("c'm", "on"), "C'mon": ("C'm", "on"),
}


def _both_cases(word: str) -> tuple[str, str]:
    return word, word.title()


def _endings(stem: str, *endings: str) -> dict[str, tuple[str, ...]]:
    """``stem`` + each ending, with and without its apostrophe: "they" + "'re" gives "they're" and "theyre"."""
    out = {}
    for ending in endings:
        parts = tuple(ending.split("+"))
        for with_apostrophe in (True, False):
            pieces = parts if with_apostrophe else tuple(p.lstrip("'") for p in parts)
            out[stem + "".join(pieces)] = (stem, *pieces)
    return out


def _contractions() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for orth in _both_cases("i"):
        table.update(_endings(orth, "'m", "'m+a"))
    for pronoun in _PRONOUNS:
        for orth in _both_cases(pronoun):
            table.update(_endings(orth, "'ll", "'ll+'ve", "'d", "'d+'ve"))
            if pronoun in ("i", "you", "we", "they"):
                table.update(_endings(orth, "'ve"))
            if pronoun in ("you", "we", "they"):
                table.update(_endings(orth, "'re"))
            if pronoun in ("he", "she", "it"):
                table.update(_endings(orth, "'s"))
    for word in _W_WORDS_SINGULAR + _W_WORDS_PLURAL:
        for orth in _both_cases(word):
            table.update(_endings(orth, "'ll", "'ll+'ve", "'d", "'d+'ve"))
            if word not in _W_WORDS_PLURAL:
                table.update(_endings(orth, "'s"))
            if word not in ("that", "this"):
                table.update(_endings(orth, "'re", "'ve"))
    for verb in _N_T_VERBS:
        for orth in _both_cases(verb):
            table.update({orth + "n't": (orth, "n't"), orth + "nt": (orth, "nt"),
                          orth + "n't've": (orth, "n't", "'ve"), orth + "ntve": (orth, "nt", "ve")})
    for verb in _N_T_ONLY_VERBS:
        for orth in _both_cases(verb):
            table.update({orth + "n't": (orth, "n't"), orth + "nt": (orth, "nt")})
    for verb in _HAVE_VERBS:
        for orth in _both_cases(verb):
            table.update(_endings(orth, "'ve"))
    return table


def _times() -> dict[str, tuple[str, ...]]:
    return {f"{hour}{period}": (str(hour), period) for hour in range(1, 13) for period in ("a.m.", "am", "p.m.", "pm")}


def _whole_words() -> dict[str, tuple[str, ...]]:
    table = {word: (word,) for word in _WHOLE}
    for word in _DROPPED_G:
        for orth in _both_cases(word):
            table[orth] = (orth,)
            table[orth + "'"] = (orth + "'",)
    for word in _LEADING_APOSTROPHE:
        table[word] = (word,)
        table["'" + word] = ("'" + word,)
    for letter in "abcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00fc":  # "a." to "z.": enumerations, initials
        table[letter + "."] = (letter + ".",)
    for unit in "cfkCFK":  # "°C." is the degree sign, the unit and a full stop
        table[f"\u00b0{unit}."] = ("\u00b0", unit, ".")
    return table


def _with_curly_apostrophes(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Every entry with an apostrophe also with the typographic one: "don’t" is "do" + "n’t"."""
    curly = {k.replace("'", "\u2019"): tuple(t.replace("'", "\u2019") for t in v) for k, v in table.items() if "'" in k}
    return {**table, **curly}


def _build() -> dict[str, tuple[str, ...]]:
    table = {**_contractions(), **_times(), **_SPLIT, **_whole_words()}
    return _with_curly_apostrophes({k: v for k, v in table.items() if k not in _NOT_CONTRACTIONS})


SPECIAL_CASES: dict[str, tuple[str, ...]] = _build()
