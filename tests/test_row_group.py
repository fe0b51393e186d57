"""A row group built column by column holds its text about once and has the values from_pylist gives."""

import datetime
import tracemalloc

import pyarrow as pa
import pytest

import transforms.writing.row_group as row_group
from transforms.writing.row_group import row_group_table

SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("when", pa.timestamp("us", tz="UTC")),
                    ("n", pa.int64()), ("flag", pa.bool_()), ("score", pa.float64()), ("lang", pa.string())])


def _rows(n: int) -> list[dict]:
    texts = ["plain", "Grüße".encode(), "日本語のテキスト", "emoji 🙂", "", None]
    return [{"id": f"{i:04d}", "text": texts[i % len(texts)], "n": i, "flag": i % 2 == 0,
             "when": None if i % 3 else datetime.datetime(2024, 5, 18, tzinfo=datetime.timezone.utc),
             "score": None if i % 4 == 0 else i / 7, **({"lang": "en"} if i % 5 else {})}
            for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 5, 8, 9, 100])
def test_the_table_has_the_values_of_from_pylist(n):
    rows = _rows(n)
    table = row_group_table(iter(rows), SCHEMA)
    assert table.equals(pa.Table.from_pylist(rows, schema=SCHEMA))
    assert table.column("text").null_count == sum(row["text"] is None for row in rows)


def test_a_column_past_the_offsets_limit_goes_on_in_another_chunk(monkeypatch):
    monkeypatch.setattr(row_group, "MAX_CHUNK_BYTES", 40)
    rows = _rows(60)
    table = row_group_table(iter(rows), SCHEMA)
    assert table.column("text").num_chunks > 1
    assert table.equals(pa.Table.from_pylist(rows, schema=SCHEMA))


def test_a_value_that_is_not_text_is_refused_as_arrow_refuses_it():
    with pytest.raises(pa.ArrowTypeError, match="got a 'int' object"):
        row_group_table([{"id": 3}], SCHEMA)
    with pytest.raises(UnicodeEncodeError):
        row_group_table([{"id": "bad \udc80 surrogate"}], SCHEMA)


def test_a_row_group_holds_its_text_about_once():
    text = "Grüße aus 日本 " * 2000  # about 36 kB as UTF-8
    count = 200
    utf8 = len(text.encode("utf-8")) * count

    def rows():  # each row made as it is taken, as the merge of sorted runs gives them
        for i in range(count):
            yield {"id": f"{i:04d}", "text": f"{i} {text}"}

    tracemalloc.start()
    try:
        table = row_group_table(rows(), SCHEMA)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.num_rows == count
    # from_pylist needs every row alive, then the same text again in Arrow: above twice the text.
    assert peak < 1.5 * utf8
