"""Packed values: compressed for a shuffle that leaves the process, plain pickles for the local runner's,
read alike either way."""

import threading

from transforms.common import packed
from transforms.common.packed import ZSTD_FRAME, in_process_packing, pack, pickled, unpack
from transforms.common.records import Document, Provenance

DOCUMENT = Document("0" * 32, "Grüße, 日本語 " * 400, Provenance("a.warc.gz", 0, 10, "<urn:uuid:1>", None, "https://a.test/",
                                                             None, "response"), "text/html", "utf-8", "f" * 64)


def test_a_value_packs_compressed_by_default_and_comes_back_whole():
    data = pack(DOCUMENT)
    assert data.startswith(ZSTD_FRAME)
    assert len(data) < len(pickled(data)) / 2
    assert unpack(data) == DOCUMENT


def test_inside_in_process_packing_a_value_is_a_plain_pickle_read_alike():
    with in_process_packing():
        plain = pack(DOCUMENT)
        assert not plain.startswith(ZSTD_FRAME)
        assert unpack(pack(DOCUMENT)) == DOCUMENT
    compressed = pack(DOCUMENT)
    assert pickled(plain) == plain == pickled(compressed)
    assert unpack(plain) == unpack(compressed) == DOCUMENT


def test_in_process_packing_is_undone_when_its_block_raises():
    try:
        with in_process_packing():
            raise RuntimeError("the run failed")
    except RuntimeError:
        pass
    assert packed._compress is True
    assert pack(DOCUMENT).startswith(ZSTD_FRAME)


def test_threads_pack_and_unpack_at_once():
    results = []

    def work() -> None:
        results.append(all(unpack(pack((i, DOCUMENT))) == (i, DOCUMENT) for i in range(50)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4
