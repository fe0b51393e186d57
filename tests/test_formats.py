"""One shard in every layout a reader meets: the same records, each found again from its provenance."""

import gzip
import io

import pytest
from fastwarc.stream_io import Lz4Writer, ZstdWriter

from transforms.common.records import PageRecord
from transforms.reading.classify_records import ReadRules, read_shard
from transforms.reading.record_fetch import record_bytes


def _framed(writer_type: type, data: bytes) -> bytes:
    sink = io.BytesIO()
    writer = writer_type(sink)
    writer.write(data)
    writer.finish()  # ends the frame
    writer.flush()  # hands the last bytes to the sink
    return sink.getvalue()


@pytest.fixture(scope="module")
def layouts(sample_dir) -> dict[str, bytes]:
    per_record = (sample_dir / "sample-00000.warc.gz").read_bytes()
    plain = gzip.decompress(per_record)
    return {
        "gzip per record": per_record,
        "uncompressed": plain,
        "whole-file gzip": gzip.compress(plain, mtime=0),
        "gzip in 64 KiB members": b"".join(gzip.compress(plain[i: i + 65536], mtime=0)
                                           for i in range(0, len(plain), 65536)),
        "zstd": _framed(ZstdWriter, plain),
        "lz4": _framed(Lz4Writer, plain),
    }


def decisions(data: bytes) -> list:
    return list(read_shard(io.BytesIO(data), "f", len(data), ReadRules()))


def summary(decided: list) -> list[tuple]:
    return [(d.provenance.warc_record_id, "page" if isinstance(d, PageRecord) else d.reason,
             d.payload if isinstance(d, PageRecord) else None) for d in decided]


@pytest.mark.parametrize("layout", ["uncompressed", "whole-file gzip", "gzip in 64 KiB members", "zstd", "lz4"])
def test_every_layout_gives_the_same_records(layouts, layout):
    # The sample's last shard holds the cut-off record; shard 0 is complete in every layout.
    assert summary(decisions(layouts[layout])) == summary(decisions(layouts["gzip per record"]))


@pytest.mark.parametrize("layout", ["gzip per record", "uncompressed", "whole-file gzip", "gzip in 64 KiB members",
                                    "zstd", "lz4"])
def test_every_record_is_found_again_from_its_provenance(layouts, layout):
    data = layouts[layout]
    for decided in decisions(data)[::25]:
        prov = decided.provenance
        block = data[prov.warc_offset: prov.warc_offset + prov.warc_length]
        again = next(read_shard(io.BytesIO(record_bytes(block, prov.warc_inner_offset)), "f", 10**9, ReadRules()))
        assert again.provenance.warc_record_id == prov.warc_record_id


def test_per_record_gzip_needs_no_decompressing_to_seek(layouts):
    assert all(d.provenance.warc_inner_offset == 0 for d in decisions(layouts["gzip per record"]))
    whole = decisions(layouts["whole-file gzip"])
    assert {d.provenance.warc_offset for d in whole} == {0}
    assert len({d.provenance.warc_inner_offset for d in whole}) == len(whole)
