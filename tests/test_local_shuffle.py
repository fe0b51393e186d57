"""The local runner's shuffle: buffers spill to disk past their share of memory and give back the same
groups; a stage's input reaches the workers in bounded bundles, and an in-process worker's output
reaches its buffer while the bundle still runs."""

import gc
import os
import random
import subprocess
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.coders import coders
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import execution
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import core, window

from beam_jobs.forked_workers import LocalRunner
from beam_jobs.local_shuffle import (
    MEMORY_VARIABLE,
    ShuffleSettings,
    ShuffleSettingsError,
    SpillFile,
    SpillingGroupingBuffer,
    SpillingListBuffer,
)
from tests.conftest import WARCFORGE, build, published_bytes, write_recipe
from transforms.common.packed import ZSTD_FRAME, in_process_packing, pack

PRE = coders.WindowedValueCoder(coders.TupleCoder([coders.StrUtf8Coder(), coders.BytesCoder()]))
POST = coders.WindowedValueCoder(coders.TupleCoder([coders.StrUtf8Coder(), coders.IterableCoder(coders.BytesCoder())]))
GLOBAL = core.Windowing(window.GlobalWindows())


def encoded(pairs: list[tuple[str, bytes]]) -> bytes:
    return b"".join(PRE.get_impl().encode_nested(window.GlobalWindows.windowed_value(pair)) for pair in pairs)


def random_pairs(count: int, keys: int, seed: int = 3) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    return [(f"key-{rng.randrange(keys)}", f"value {i} ".encode() * rng.randrange(1, 30)) for i in range(count)]


def fed(buffer: object, pairs: list[tuple[str, bytes]], piece: int = 37) -> object:
    for start in range(0, len(pairs), piece):
        buffer.append(encoded(pairs[start:start + piece]))
    return buffer


def grouped(chunks: list[bytes]) -> list[tuple[str, list[bytes]]]:
    return [(wv.value[0], list(wv.value[1])) for chunk in chunks for wv in POST.get_impl().decode_all(chunk)]


def expected_groups(pairs: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    groups: dict[str, list[bytes]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return groups


def spill_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("shuffle-*.run"))


def test_a_group_buffer_past_its_memory_spills_and_gives_every_key_once_with_its_values_in_order(tmp_path):
    pairs = random_pairs(3_000, keys=80)
    buffer = fed(SpillingGroupingBuffer(PRE, POST, GLOBAL, ShuffleSettings(4_000, 2_000, str(tmp_path))), pairs)
    assert buffer.spilled_runs > 10 and len(spill_files(tmp_path)) == buffer.spilled_runs
    chunks = list(buffer.chunks(2_000, None))
    groups = grouped(chunks)
    assert [key for key, _ in groups] == sorted(key for key, _ in groups)  # merged from sorted runs: each key once
    assert dict(groups) == expected_groups(pairs)
    # a bundle is at most its bytes, unless one group alone is larger
    assert all(len(chunk) <= 2_000 or len(grouped([chunk])) == 1 for chunk in chunks)
    assert grouped(list(buffer.chunks(2_000, None))) == groups  # read again by a second consumer
    del buffer, chunks
    gc.collect()
    assert spill_files(tmp_path) == []


def test_a_group_buffer_within_its_memory_groups_as_beam_does(tmp_path):
    pairs = random_pairs(500, keys=40)
    ours = fed(SpillingGroupingBuffer(PRE, POST, GLOBAL, ShuffleSettings(10**9, 10**9, str(tmp_path))), pairs)
    beams = fed(execution.GroupingBuffer(PRE, POST, GLOBAL), pairs)
    assert ours.spilled_runs == 0 and spill_files(tmp_path) == []
    assert b"".join(ours.chunks(10**9, None)) == b"".join(beams.partition(1)[0])


def test_a_group_buffer_cuts_its_groups_into_bundles_of_at_most_max_keys(tmp_path):
    pairs = random_pairs(400, keys=30)
    buffer = fed(SpillingGroupingBuffer(PRE, POST, GLOBAL, ShuffleSettings(10**9, 10**9, str(tmp_path))), pairs)
    chunks = list(buffer.chunks(10**9, 4))
    assert [len(grouped([chunk])) for chunk in chunks] == [4] * 7 + [2]
    assert dict(grouped(chunks)) == expected_groups(pairs)


def test_a_spilled_group_buffer_still_partitions_for_beam_s_own_bundle_managers(tmp_path):
    pairs = random_pairs(1_000, keys=50)
    buffer = fed(SpillingGroupingBuffer(PRE, POST, GLOBAL, ShuffleSettings(3_000, 1_000, str(tmp_path))), pairs)
    parts = buffer.partition(3)
    assert len(parts) == 3
    assert dict(grouped([piece for part in parts for piece in part])) == expected_groups(pairs)


def test_a_list_buffer_spills_and_gives_its_pieces_back_in_order_to_each_copy(tmp_path):
    impl = PRE.get_impl()
    pieces = [encoded(random_pairs(20, keys=5, seed=seed)) for seed in range(60)]
    buffer = SpillingListBuffer(impl, ShuffleSettings(5_000, 3_000, str(tmp_path)))
    for piece in pieces:
        buffer.append(piece)
    assert buffer.spilled_runs > 5
    copy = buffer.copy()
    assert list(buffer) == pieces and list(copy) == pieces
    chunks = list(buffer.chunks(3_000, None))
    assert b"".join(chunks) == b"".join(pieces)
    assert all(len(chunk) <= 3_000 or chunk in pieces for chunk in chunks)
    parts = buffer.partition(4)
    assert sorted(b"".join(part) for part in parts) == sorted(b"".join(pieces[k::4]) for k in range(4))
    buffer.clear()
    with pytest.raises(RuntimeError):
        list(buffer)
    assert list(copy) == pieces  # the copy keeps the files it shares
    del buffer, copy, chunks, parts
    gc.collect()
    assert spill_files(tmp_path) == []


BUNDLE_SIZES: list[int] = []
SPILLED_WHILE_RUNNING: list[int] = []


class CountBundles(beam.DoFn):
    def start_bundle(self) -> None:
        BUNDLE_SIZES.append(0)

    def process(self, element: tuple):  # noqa: ANN201 - a DoFn generator
        BUNDLE_SIZES[-1] += 1
        yield element[0], sorted(element[1])


def test_a_stage_s_grouped_input_runs_as_several_bounded_bundles_on_the_local_runner(tmp_path):
    BUNDLE_SIZES.clear()
    runner = LocalRunner(shuffle=ShuffleSettings(20_000, 10_000, str(tmp_path)))
    pairs = [(i % 97, b"x" * (i % 50) + str(i).encode()) for i in range(3_000)]
    with beam.Pipeline(runner=runner) as pipeline:
        out = (pipeline | beam.Create(pairs) | beam.GroupByKey() | beam.ParDo(CountBundles()))
        assert_that(out, equal_to([(key, sorted(values)) for key, values in expected_groups(pairs).items()]))
    assert len(BUNDLE_SIZES) > 3 and sum(BUNDLE_SIZES) == 97


def test_with_two_workers_a_reshuffled_input_goes_to_both(tmp_path):
    BUNDLE_SIZES.clear()
    options = PipelineOptions(["--direct_num_workers=2", "--direct_running_mode=multi_threading"])
    with beam.Pipeline(runner=LocalRunner(shuffle=ShuffleSettings(10**6, 10**6, str(tmp_path))),
                       options=options) as pipeline:
        # as the build's reading: the files reshuffled, then read, half of them by each worker
        out = (pipeline | beam.Create([(f"file-{i}", [i]) for i in range(16)]) | beam.ParDo(CountBundles()))
        assert_that(out, equal_to([(f"file-{i}", [i]) for i in range(16)]))
    assert sum(BUNDLE_SIZES) == 16 and len(BUNDLE_SIZES) == 2 and min(BUNDLE_SIZES) >= 4


class EmitMuch(beam.DoFn):
    """One element in, 12 MB out: more than the worker's 10 MB flush."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def process(self, element: int):  # noqa: ANN201 - a DoFn generator
        for i in range(120):
            yield i % 7, os.urandom(100_000)

    def finish_bundle(self) -> None:
        SPILLED_WHILE_RUNNING.append(len(spill_files(Path(self.folder))))


def test_an_in_process_worker_s_output_reaches_its_buffer_while_the_bundle_runs(tmp_path):
    SPILLED_WHILE_RUNNING.clear()
    runner = LocalRunner(shuffle=ShuffleSettings(2_000_000, 1_000_000, str(tmp_path)))
    with beam.Pipeline(runner=runner) as pipeline:
        # two elements: Create reshuffles them, so the stage reads a group buffer (as the build's reading does)
        sizes = (pipeline | beam.Create([0, 1]) | beam.ParDo(EmitMuch(str(tmp_path))) | beam.GroupByKey()
                 | beam.MapTuple(lambda key, values: (key, sum(map(len, values)))))
        assert_that(sizes, equal_to([(k, 2 * 100_000 * len(range(k, 120, 7))) for k in range(7)]))
    assert SPILLED_WHILE_RUNNING and SPILLED_WHILE_RUNNING[0] > 0


def test_a_build_whose_shuffles_spill_publishes_the_same_files(sample_dir, tmp_path, monkeypatch):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], output={"num_shards": 3})
    build(recipe, tmp_path / "default")
    monkeypatch.setenv(MEMORY_VARIABLE, "0.005")  # 5 kB: every shuffle spills, bundles of a few documents
    build(recipe, tmp_path / "spilled")
    build(recipe, tmp_path / "spilled-two", "--direct_num_workers", "2", "--direct_running_mode", "multi_processing")
    default = published_bytes(tmp_path / "default")
    assert published_bytes(tmp_path / "spilled") == default
    assert published_bytes(tmp_path / "spilled-two") == default


def test_a_bad_shuffle_memory_setting_is_one_line_and_exit_status_2(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")])
    done = subprocess.run([WARCFORGE, "build", "--config", str(recipe), "--output", str(tmp_path / "out")],
                          capture_output=True, text=True, env={**os.environ, MEMORY_VARIABLE: "lots"}, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == f"warcforge: error: {MEMORY_VARIABLE}='lots': expected a positive number of MB"
    assert len(lines) <= 2 and "Traceback" not in done.stderr  # the build's start line, then the error
    assert not (tmp_path / "out").exists()


def test_a_flattened_producer_s_values_come_after_the_first_s_whatever_each_spilled(tmp_path):
    settings = ShuffleSettings(2_000, 1_000, str(tmp_path))
    first = [(f"key-{i % 5}", f"a{i}".encode() * 20) for i in range(200)]
    second = [(f"key-{i % 5}", f"b{i}".encode() * 20) for i in range(200)]
    ours, theirs = (fed(SpillingGroupingBuffer(PRE, POST, GLOBAL, settings), pairs) for pairs in (first, second))
    assert ours.spilled_runs and theirs.spilled_runs and ours._table and theirs._table
    ours.extend(theirs)
    assert dict(grouped(list(ours.chunks(1_000, None)))) == expected_groups(first + second)


def test_a_list_buffer_extended_by_a_spilled_one_takes_its_files_over(tmp_path):
    settings = ShuffleSettings(5_000, 3_000, str(tmp_path))
    pieces = [encoded(random_pairs(20, keys=5, seed=seed)) for seed in range(40)]
    ours, theirs = SpillingListBuffer(PRE.get_impl(), settings), SpillingListBuffer(PRE.get_impl(), settings)
    for piece in pieces[:20]:
        ours.append(piece)
    for piece in pieces[20:]:
        theirs.append(piece)
    files = len(spill_files(tmp_path))
    ours.extend(theirs)
    assert list(ours) == pieces
    assert len(spill_files(tmp_path)) <= files + 1  # at most its own pieces in memory written out, none copied


@pytest.mark.parametrize("value", ["lots", "0", "-3", "inf", "nan", "1e400"])
def test_a_shuffle_memory_setting_that_is_not_a_positive_number_is_refused_by_name(value, monkeypatch):
    monkeypatch.setenv(MEMORY_VARIABLE, value)
    with pytest.raises(ShuffleSettingsError, match=f"{MEMORY_VARIABLE}="):
        ShuffleSettings.from_environment()


def test_a_spill_file_cut_short_is_an_error_that_names_it(tmp_path):
    run = SpillFile(str(tmp_path))
    run.write(b"key", b"element" * 100)
    run.close()
    Path(run.path).write_bytes(Path(run.path).read_bytes()[:5])
    with pytest.raises(OSError, match="cut short"):
        list(run.records())



def _packed_head(element: int) -> bytes:
    return pack(element)[:4]


def test_on_the_local_runner_values_are_packed_for_a_shuffle_that_stays_in_the_process(tmp_path):
    # transforms/common/packed.py: no compression while the local runner runs, and compression again after.
    with in_process_packing():
        plain = [_packed_head(1), _packed_head(2)]
    assert not any(head.startswith(ZSTD_FRAME) for head in plain)
    with beam.Pipeline(runner=LocalRunner(shuffle=ShuffleSettings(10**6, 10**6, str(tmp_path)))) as pipeline:
        heads = pipeline | beam.Create([1, 2]) | beam.Map(_packed_head)
        assert_that(heads, equal_to(plain))
    assert _packed_head(1) == ZSTD_FRAME


def test_workers_in_processes_of_their_own_pack_compressed(tmp_path):
    # Over gRPC the uncompressed bytes cost more than zstd saves (beam_jobs/forked_workers.py).
    options = PipelineOptions(["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    with beam.Pipeline(runner=LocalRunner(shuffle=ShuffleSettings(10**6, 10**6, str(tmp_path))),
                       options=options) as pipeline:
        heads = pipeline | beam.Create([1, 2]) | beam.Map(_packed_head)
        assert_that(heads, equal_to([ZSTD_FRAME, ZSTD_FRAME]))
