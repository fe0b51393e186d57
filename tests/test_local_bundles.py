"""The local runner's in-process hand-over: a routed transform's output reaches its buffer as plain bytes."""

from types import SimpleNamespace

from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.runners.worker import data_plane

from beam_jobs import local_bundles
from beam_jobs.local_bundles import _Routing


class RecordingBuffer:
    def __init__(self) -> None:
        self.appended: list[bytes] = []

    def append(self, data: bytes) -> None:
        self.appended.append(data)


class Context:
    """The two methods of a stage's context that routing uses."""

    def __init__(self) -> None:
        self.buffers: dict[bytes, RecordingBuffer] = {}

    def get_buffer(self, buffer_id: bytes, transform_id: str) -> RecordingBuffer:
        return self.buffers.setdefault(buffer_id, RecordingBuffer())


def routing() -> tuple[_Routing, data_plane.InMemoryDataChannel, Context]:
    runner_side = data_plane.InMemoryDataChannel()
    context = Context()
    return _Routing(SimpleNamespace(data_conn=runner_side), context, {"routed": b"group:1"}, False), \
        runner_side, context


class RecordingInbox(list):
    """The runner side's inbox, noting the transform of every message that reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[str] = []

    def append(self, element: beam_fn_api_pb2.Elements.Data) -> None:
        self.arrived.append(element.transform_id)
        super().append(element)


def test_a_routed_transform_s_output_goes_to_its_buffer_as_bytes_without_a_message() -> None:
    route, runner_side, context = routing()
    runner_side._inputs = inbox = RecordingInbox()  # what reaches the runner side's inbox while the bundle runs
    messages = inbox.arrived
    worker_side = runner_side.inverse()
    with route:
        stream = worker_side.output_stream("bundle-1", "routed")
        stream.write(b"first element")
        stream.flush()
        stream.close()  # nothing more written: an empty close delivers nothing
        other = worker_side.output_stream("bundle-1", "not routed")
        other.write(b"kept for Beam")
        other.close()
    assert context.buffers[b"group:1"].appended == [b"first element"]
    assert messages == ["not routed"]  # the routed bytes were never wrapped in a message
    # Beam's own path still carries the rest, as a message in the runner side's inbox.
    assert [(m.transform_id, m.data) for m in runner_side._inputs] == [("not routed", b"kept for Beam")]
    assert all(isinstance(m, beam_fn_api_pb2.Elements.Data) for m in runner_side._inputs)


def test_after_each_bundle_the_channel_is_beam_s_own_again() -> None:
    runner_side = data_plane.InMemoryDataChannel()
    worker_side, context = runner_side.inverse(), Context()
    for bundle in range(3):
        with _Routing(SimpleNamespace(data_conn=runner_side), context, {"routed": b"group:1"}, False):
            assert "output_stream" in vars(worker_side)
            stream = worker_side.output_stream(f"bundle-{bundle}", "routed")
            stream.write(b"routed")
            stream.close()
            # As Beam's bundle manager does after the worker's bundle: its reading leaves a plain list as the inbox.
            list(runner_side.input_elements(f"bundle-{bundle}", ["routed"]))
        assert "output_stream" not in vars(worker_side)
    assert context.buffers[b"group:1"].appended == [b"routed"] * 3
    stream = worker_side.output_stream("bundle-9", "routed")
    stream.write(b"after")
    stream.close()
    assert context.buffers[b"group:1"].appended == [b"routed"] * 3
    assert [m.data for m in runner_side._inputs] == [b"after"]


def test_a_failed_bundle_leaves_the_channel_as_beam_s_own() -> None:
    route, runner_side, _ = routing()
    try:
        with route:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert "output_stream" not in vars(runner_side.inverse())
    assert type(runner_side._inputs) is list


def test_a_dry_run_leaves_the_channel_alone() -> None:
    runner_side = data_plane.InMemoryDataChannel()
    with _Routing(SimpleNamespace(data_conn=runner_side), Context(), {"routed": b"group:1"}, True):
        assert "output_stream" not in vars(runner_side.inverse())


def direct_input_manager(channel: object) -> local_bundles._DirectInputBundleManager:
    manager = object.__new__(local_bundles._DirectInputBundleManager)  # only its worker handler is used here
    manager._worker_handler = SimpleNamespace(data_conn=channel)
    return manager


def test_an_in_process_worker_gets_its_input_as_one_message_of_the_chunk_s_bytes() -> None:
    runner_side = data_plane.InMemoryDataChannel()
    direct_input_manager(runner_side)._send_input_to_worker("bundle-3", "read", [b"encoded ", b"elements"])
    direct_input_manager(runner_side)._send_input_to_worker("bundle-4", "read", [])
    sent = runner_side.inverse()._inputs
    assert [(m.instruction_id, m.transform_id, m.data) for m in sent] == [
        ("bundle-3", "read", b"encoded elements"), ("bundle-4", "read", b"")]
    # The worker reads it as it reads Beam's own: the elements of its instruction, the empty message left out.
    worker_side = runner_side.inverse()
    assert [m.data for m in worker_side.input_elements("bundle-3", [])] == [b"encoded elements"]


def test_a_worker_in_another_process_gets_its_input_as_beam_sends_it(monkeypatch) -> None:
    sent = []
    monkeypatch.setattr(local_bundles.fn_runner.BundleManager, "_send_input_to_worker",
                        lambda self, *args: sent.append(args))
    direct_input_manager(object())._send_input_to_worker("bundle-5", "read", [b"x"])
    assert sent == [("bundle-5", "read", [b"x"])]
