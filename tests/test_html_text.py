from transforms.extraction.html_text import ExtractOptions, choose_charset, html_to_text, tidy_lines

ARTICLE = (
    "<p>{0} The council met on Tuesday to decide the future of the old railway bridge over the river.</p>"
    "<p>{0} After a long debate the members agreed to restore it and to open it for bicycles.</p>"
)


def page(body: str, head: str = "") -> str:
    return (f"<html><head>{head}<title>t</title></head><body><nav><ul><li><a href='/'>Home</a></li>"
            f"<li><a href='/n'>News</a></li></ul></nav><main><article>{body}</article></main>"
            "<footer>Copyright footer text</footer></body></html>")


def test_declared_charset_wins_when_python_knows_it():
    assert choose_charset(b"<html>", "ISO-8859-1") == "cp1252"  # WHATWG: latin-1 label means windows-1252
    assert choose_charset(b"<html>", "gb2312") == "gbk"


def test_unknown_declared_charset_falls_back_to_meta_then_detection():
    assert choose_charset(b'<html><head><meta charset="windows-1251">', "x-no-such-charset") == "cp1251"
    assert choose_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">', None) == "koi8-r"


def test_windows_1251_page_without_header_charset_decodes_from_meta():
    body = ARTICLE.format("Привет.")
    payload = page(body, '<meta charset="windows-1251">').encode("cp1251")
    text, charset = html_to_text(payload, None, ExtractOptions())
    assert charset == "cp1251"
    assert "Привет. The council met on Tuesday" in text


def test_gbk_page_with_no_declaration_is_detected():
    chinese = "城市委员会今天决定修复河上的旧铁路桥，并向自行车开放。" * 6
    payload = page(f"<p>{chinese}</p><p>{chinese}</p>").encode("gbk")
    text, charset = html_to_text(payload, None, ExtractOptions())
    assert charset in ("gbk", "gb18030")
    assert chinese in text


def test_main_content_drops_navigation_and_footer():
    payload = page(ARTICLE.format("Main.")).encode()
    text, _ = html_to_text(payload, "utf-8", ExtractOptions(main_content=True))
    assert "The council met" in text
    assert "Home" not in text and "Copyright footer" not in text
    everything, _ = html_to_text(payload, "utf-8", ExtractOptions(main_content=False))
    assert "Home" in everything


def test_paragraphs_become_lines():
    text, _ = html_to_text(page(ARTICLE.format("A.")).encode(), "utf-8", ExtractOptions())
    assert len(text.splitlines()) == 2


def test_tidy_lines_strips_and_drops_blank_lines():
    assert tidy_lines("  a  \n\n \t\n b\n") == "a\nb"
    assert tidy_lines("\ufeff\nx\ufeffy\n") == "xy"
