"""URL blocklists, PII replacement and language identification."""

import pytest

from testbed.http_server import FileServer
from tests.conftest import REPO
from transforms.filters.language import LanguageIdentifier, language_reason
from transforms.filters.pii import redact_pii
from transforms.filters.url_filter import Blocklists, load_list, url_reason

LISTS = REPO / "configs" / "blocklists"


@pytest.fixture(scope="module")
def lists():
    return Blocklists.load([str(LISTS / "example-domains.txt")], [str(LISTS / "example-urls.txt")],
                           [str(LISTS / "example-words.txt")], [str(LISTS / "example-subwords.txt")])


@pytest.mark.parametrize(("url", "reason"), [
    ("https://casino-bonus.example/", "url_blocked_domain"),
    ("http://www.casino-bonus.example/page", "url_blocked_domain"),
    ("https://deep.sub.adult.test/x", "url_blocked_domain"),
    ("https://notadult.test/x", None),
    ("https://www.news.example/private/leaked-list.html", "url_blocked_url"),
    ("https://news.example/private/other.html", None),
    ("https://videos.example/xxx/clip-1", "url_banned_word"),
    ("https://videos.example/xxxl-shirts", None),  # a word must be a whole token
    ("https://games.example/free-casino-chips/today", "url_banned_subword"),
    ("https://games.example/free-chips", None),
    (None, None),
])
def test_url_rules(lists, url, reason):
    assert url_reason(url, lists) == reason


def test_lists_ignore_comments_blank_lines_and_case(tmp_path):
    (tmp_path / "l.txt").write_text("# comment\n\nExample.COM  # trailing comment\n")
    assert load_list(str(tmp_path / "l.txt")) == {"example.com"}


def test_lists_load_from_urls(tmp_path):
    (tmp_path / "domains.txt").write_text("blocked.example\n")
    with FileServer(tmp_path) as server:
        lists = Blocklists.load([f"{server.url}/domains.txt"], [], [], [])
    assert url_reason("https://a.blocked.example/", lists) == "url_blocked_domain"


def test_pii_replaces_emails_and_public_ipv4_only():
    text = ("Write to jane.doe+news@mail.example.org or ADMIN@Example.COM. Server 8.8.8.8 and 203.0.113.9 "
            "answer; 192.168.1.10, 10.0.0.1 and 127.0.0.1 are private. Version 1.2.3.4.5 is not an address.")
    redacted, emails, ips = redact_pii(text, "email@example.com", "192.0.2.0")
    assert (emails, ips) == (2, 1)
    assert "jane.doe" not in redacted and "ADMIN@" not in redacted and "8.8.8.8" not in redacted
    assert redacted.count("email@example.com") == 2 and "Server 192.0.2.0 and 203.0.113.9" in redacted
    assert "192.168.1.10, 10.0.0.1 and 127.0.0.1" in redacted and "1.2.3.4.5" in redacted


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier()


@pytest.mark.parametrize(("text", "language"), [
    ("The council met on Tuesday to decide the future of the old railway bridge over the river.", "en"),
    ("Der Gemeinderat hat am Dienstag über die Zukunft der alten Eisenbahnbrücke entschieden.", "de"),
    ("Le conseil municipal a décidé mardi de l'avenir du vieux pont de chemin de fer.", "fr"),
    ("城市委员会今天决定修复河上的旧铁路桥，并向自行车开放。", "zh"),
])
def test_language_identification(identifier, text, language):
    predicted, score = identifier.predict(text)
    assert predicted == language and 0.5 < score <= 1.0


def test_line_breaks_do_not_cut_the_prediction_short(identifier):
    german = "Der Gemeinderat hat am Dienstag entschieden.\nDie alte Brücke wird für Fahrräder geöffnet."
    english_first = "Home\n" + german
    assert identifier.predict(english_first)[0] == "de"
    assert identifier.predict(german) == identifier.predict(german.replace("\n", " "))


@pytest.mark.parametrize(("language", "score", "reason"), [
    ("en", 0.64, "language_low_score"), ("en", 0.65, None), ("en", 0.66, None), ("de", 0.99, "language_not_kept")])
def test_language_reason_at_the_fineweb_threshold(language, score, reason):
    assert language_reason(language, score, ("en",), 0.65) == reason


def test_no_keep_list_keeps_every_language():
    assert language_reason("de", 0.99, (), 0.0) is None
