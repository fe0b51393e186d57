"""beam_jobs/job_options.py: a job's options make each view once, and a DoFn's state specs are worked out once;
what Beam reads through either is what it read before."""

import copy
import gc
import pickle

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, TypeOptions
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import userstate
from apache_beam.transforms.display import DisplayData

from beam_jobs.job_options import JobOptions, _remembered_specs, remember_dofn_specs


def test_a_view_is_made_once_and_reads_what_any_view_wrote() -> None:
    options = JobOptions(["--runner=DirectRunner", "--type_check_strictness=ALL_REQUIRED"])
    first = options.view_as(TypeOptions)
    assert options.view_as(TypeOptions) is first
    assert first.type_check_strictness == "ALL_REQUIRED"
    options.view_as(StandardOptions).streaming = True
    first.type_check_strictness = "DEFAULT_TO_ANY"
    assert options.view_as(StandardOptions).streaming is True
    assert options.view_as(TypeOptions).type_check_strictness == "DEFAULT_TO_ANY"
    # The same values as Beam's own options give, the same changes made through its views.
    beams = PipelineOptions(["--runner=DirectRunner", "--type_check_strictness=ALL_REQUIRED"])
    beams.view_as(StandardOptions).streaming = True
    beams.view_as(TypeOptions).type_check_strictness = "DEFAULT_TO_ANY"
    assert options.get_all_options() == beams.get_all_options()


def test_what_is_shown_of_the_options_is_what_beam_shows() -> None:
    flags = ["--runner=DirectRunner", "--job_name=shown"]
    ours, beams = DisplayData.create_from_options(JobOptions(flags)), DisplayData.create_from_options(
        PipelineOptions(flags))
    assert (ours.namespace, ours.items) == (beams.namespace, beams.items)


def test_a_copy_or_an_unpickled_one_makes_its_own_views() -> None:
    options = JobOptions(["--runner=DirectRunner"])
    options.view_as(StandardOptions)
    for other in (copy.deepcopy(options), pickle.loads(pickle.dumps(options))):
        assert "_views_made" not in pickle.loads(pickle.dumps(other)).__dict__
        view = other.view_as(StandardOptions)
        view.streaming = True
        assert other.view_as(StandardOptions).streaming is True
        assert options.view_as(StandardOptions).streaming is False
    # Options whose values were replaced wholesale get views of the new values.
    options._all_options = {**options._all_options, "runner": "FlinkRunner"}
    assert options.view_as(StandardOptions).runner == "FlinkRunner"


class _Counting(beam.DoFn):
    COUNT = userstate.ReadModifyWriteStateSpec("count", VarIntCoder())

    def process(self, element: tuple[str, int], count=beam.DoFn.StateParam(COUNT)):  # noqa: ANN001, ANN201
        seen = (count.read() or 0) + 1
        count.write(seen)
        yield element[0], seen


class _Plain(beam.DoFn):
    def process(self, element: int):  # noqa: ANN201
        yield element


def test_state_specs_are_what_beam_finds_and_each_caller_gets_its_own_sets() -> None:
    remember_dofn_specs()
    remember_dofn_specs()  # once a process, however often asked
    stateful, plain = _Counting(), _Plain()
    state_specs, timer_specs = userstate.get_dofn_specs(stateful)
    assert {spec.name for spec in state_specs} == {"count"} and timer_specs == set()
    state_specs.clear()
    assert {spec.name for spec in userstate.get_dofn_specs(stateful)[0]} == {"count"}
    assert userstate.is_stateful_dofn(stateful) and not userstate.is_stateful_dofn(plain)
    assert userstate.get_dofn_specs(plain) == (set(), set())


def test_a_stateful_pipeline_still_runs_with_the_specs_remembered() -> None:
    options = JobOptions(["--runner=DirectRunner"])
    with beam.Pipeline(options=options) as pipeline:
        counted = (pipeline | beam.Create([("a", 1), ("a", 2), ("b", 3)]) | beam.ParDo(_Counting())
                   | beam.combiners.Count.PerKey())
        assert_that(counted, equal_to([("a", 2), ("b", 1)]))


def test_each_dofn_is_taken_apart_once_for_as_long_as_it_lives() -> None:
    calls = []

    def work_out(dofn: object) -> tuple[set, set]:
        calls.append(dofn)
        return {"spec"}, set()

    remembered = _remembered_specs(work_out)
    first, second = _Plain(), _Plain()
    for _ in range(5):
        assert remembered(first) == ({"spec"}, set())
    remembered(second)
    assert calls == [first, second]
    del calls[:], first
    gc.collect()  # CPython frees it at once; the collector makes sure elsewhere
    assert len(remembered.known) == 1  # the DoFn that went is forgotten with it
    remembered(second)
    assert calls == []


def test_beam_asks_through_the_remembered_specs_while_it_builds_a_pipeline() -> None:
    # A Beam upgrade that looked the specs up some other way would leave the cache unused: this fails then.
    dofn = _Plain()
    options = JobOptions(["--runner=DirectRunner"])
    with beam.Pipeline(options=options) as pipeline:
        _ = pipeline | beam.Create([1]) | beam.ParDo(dofn)
        assert id(dofn) in userstate.get_dofn_specs.known
        # The pipeline holds a copy of the options: a JobOptions too, whose views are of its own values.
        assert isinstance(pipeline.options, JobOptions) and pipeline.options is not options
        pipeline.options.view_as(StandardOptions).streaming = True
        assert options.view_as(StandardOptions).streaming is False
