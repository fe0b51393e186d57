"""Generated web pages: an article with navigation, banners, related links and a footer around it.

Every choice comes from the ``random.Random`` passed in, so a seed fixes every byte.
"""

import html
import random
from dataclasses import dataclass, replace

from sample_crawl.vocabulary import LANGUAGES, SITE_STEMS, TLDS, Language


@dataclass(frozen=True)
class Article:
    language: str
    site: str
    path: str
    title: str
    author: str
    paragraphs: tuple[str, ...]
    related: tuple[tuple[str, str], ...]  # (path, title)

    @property
    def url(self) -> str:
        return f"https://{self.site}{self.path}"


def make_site(rng: random.Random, language: str) -> str:
    stem = rng.choice(SITE_STEMS)
    town = rng.choice(LANGUAGES["en"].content_words[:40])
    return f"www.{town}-{stem}.{rng.choice(TLDS[language])}"


def sentence(rng: random.Random, lang: Language) -> str:
    words = []
    for _ in range(rng.randint(7, 18)):
        pool = lang.function_words if rng.random() < 0.45 else lang.content_words
        words.append(rng.choice(pool))
    if lang.spaced:
        text = " ".join(words)
        return text[0].upper() + text[1:] + lang.full_stop
    return "".join(words) + lang.full_stop


def paragraph(rng: random.Random, lang: Language) -> str:
    joiner = " " if lang.spaced else ""
    return joiner.join(sentence(rng, lang) for _ in range(rng.randint(3, 7)))


def title_words(rng: random.Random, lang: Language) -> str:
    words = [rng.choice(lang.content_words) for _ in range(rng.randint(3, 6))]
    text = (" " if lang.spaced else "").join(words)
    return text[0].upper() + text[1:] if lang.spaced else text


def make_article(rng: random.Random, language: str, site: str, serial: int) -> Article:
    lang = LANGUAGES[language]
    title = title_words(rng, lang)
    slug = f"/{rng.choice(('news', 'local', 'culture', 'blog', 'stories'))}/{2024 - serial % 3}/{serial:05d}.html"
    related = tuple(
        (f"/news/{rng.randint(1000, 99999)}.html", title_words(rng, lang)) for _ in range(rng.randint(3, 6))
    )
    return Article(
        language=language,
        site=site,
        path=slug,
        title=title,
        author=f"{rng.choice(('A.', 'B.', 'C.', 'M.', 'S.'))} {rng.choice(SITE_STEMS).title()}",
        paragraphs=tuple(paragraph(rng, lang) for _ in range(rng.randint(4, 12))),
        related=related,
    )


def near_duplicate(rng: random.Random, article: Article, new_path: str) -> Article:
    """The same article with one paragraph rewritten, as a syndicated or updated copy."""
    lang = LANGUAGES[article.language]
    paragraphs = list(article.paragraphs)
    paragraphs[rng.randrange(len(paragraphs))] = paragraph(rng, lang)
    return replace(article, path=new_path, paragraphs=tuple(paragraphs))


def render_html(article: Article, meta_charset: str | None, date: str, extra_space: bool = False) -> str:
    lang = LANGUAGES[article.language]
    esc = html.escape
    nav = "\n".join(f'      <li><a href="/{i}">{esc(label)}</a></li>' for i, label in enumerate(lang.nav))
    related = "\n".join(f'      <li><a href="{esc(p)}">{esc(t)}</a></li>' for p, t in article.related)
    pad = "   \n   " if extra_space else ""
    body = "\n".join(f"    <p>{pad}{esc(p)}{pad}</p>" for p in article.paragraphs)
    meta = f'  <meta charset="{meta_charset}">\n' if meta_charset else ""
    return f"""<!DOCTYPE html>
<html lang="{article.language}">
<head>
{meta}  <title>{esc(article.title)} | {esc(article.site)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/static/site.css">
  <script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "{esc(article.path)}"}});</script>
</head>
<body>
  <header>
    <div class="logo"><a href="/">{esc(article.site)}</a></div>
    <nav class="main-nav"><ul>
{nav}
    </ul></nav>
  </header>
  <div class="cookie-banner" id="cookies">{esc(lang.cookie_notice)} <button>OK</button></div>
  <main>
  <article>
    <h1>{esc(article.title)}</h1>
    <p class="byline">{esc(article.author)} &middot; {date[:10]}</p>
{body}
  </article>
  <aside class="related"><h3>{esc(lang.related)}</h3><ul>
{related}
  </ul></aside>
  </main>
  <footer><p>&copy; 2024 {esc(article.site)}. {esc(lang.rights)}</p>
    <ul><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms</a></li></ul></footer>
</body>
</html>
"""
