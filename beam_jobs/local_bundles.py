"""The local runner's bundles: a stage's input handed out in bounded pieces, its output taken as it comes.

Beam's FnApiRunner gives a stage its whole input as one bundle per worker (split once, in advance),
and an in-process worker's output waits in a list until the bundle ends; with a 1 GiB WARC file
both are all of the file's documents. Here a stage whose single input is one of the spilling
buffers (``local_shuffle``) runs as a series of bundles of about ``bundle_bytes`` each (at least one
a worker), which the workers take one at a time as they finish the last, and the output of an
in-process worker goes to its buffer as the worker flushes it (every 10 MB), where it may spill.
A stage with timers, state, several inputs or a test's split manager runs as Beam runs it.
"""

import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from apache_beam.metrics import monitoring_infos
from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.runners.portability.fn_api_runner import execution, fn_runner
from apache_beam.runners.portability.fn_api_runner.translations import split_buffer_id
from apache_beam.runners.worker import data_plane

from beam_jobs.interrupts import stop_if_interrupted
from beam_jobs.local_shuffle import ShuffleSettings, SpillingGroupingBuffer, SpillingListBuffer

# With several workers a grouped input is cut into this many bundles a worker at least (within ``bundle_bytes``).
# More would share uneven files out better, but each bundle costs its stage's start and end and exact dedup's
# pre-combine sees fewer copies together: two a worker made two workers reading 12 files 0.35 s slower (8.5 s).
BUNDLES_PER_WORKER = 1


class SpillingBundleContext(execution.BundleContextManager):
    """A stage's context whose output buffers are ``local_shuffle``'s (set on a context by ``adopt``)."""

    shuffle: ShuffleSettings

    @classmethod
    def adopt(cls, context: execution.BundleContextManager, settings: ShuffleSettings) -> None:
        if not isinstance(context, cls):
            context.__class__ = cls
            context.shuffle = settings

    def get_buffer(self, buffer_id: bytes, transform_id: str) -> execution.PartitionableBuffer:
        kind, _ = split_buffer_id(buffer_id)
        buffers = self.execution_context.pcoll_buffers
        if buffer_id not in buffers and kind == "materialize":
            buffers[buffer_id] = SpillingListBuffer(self.get_input_coder_impl(transform_id), self.shuffle)
        elif buffer_id not in buffers and kind == "group":
            made = super().get_buffer(buffer_id, transform_id)
            buffers[buffer_id] = SpillingGroupingBuffer(made._pre_grouped_coder, made._post_grouped_coder,
                                                        made._windowing, self.shuffle)
        return super().get_buffer(buffer_id, transform_id)


class _PinnedContext:
    """A stage's context that offers Beam's ``BundleManager`` one worker only: the one this thread feeds."""

    def __init__(self, context: execution.BundleContextManager, handler: object) -> None:
        self._context = context
        self.worker_handlers = [handler]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _direct_output_streams(worker_side: data_plane.InMemoryDataChannel,
                           routes: Mapping[str, Callable[[bytes], None]]) -> Callable:
    """``worker_side.output_stream`` for a bundle: a routed transform's flushes go to its buffer as they are.
    Beam's in-memory channel wraps each flush (about 10 MB) in a protobuf message for the other side to take
    the bytes out again, a copy each way: about 1 % of a one-worker build's run, and 0.3 % with this and
    ``_DirectInputBundleManager`` (py-spy's samples in bench/time_shares.py, 2026-12-02)."""
    beams_own = type(worker_side).output_stream.__get__(worker_side)  # the class's method, whatever the instance has

    def output_stream(instruction_id: str, transform_id: str) -> data_plane.ClosableOutputStream:
        route = routes.get(transform_id)
        if route is None:
            return beams_own(instruction_id, transform_id)

        def deliver(data: bytes) -> None:
            if data:
                route(data)
        return data_plane.ClosableOutputStream.create(deliver, deliver, worker_side._data_buffer_time_limit_ms)
    return output_stream


class BoundedBundleManager(fn_runner.BundleManager):
    """Runs a stage's input as bundles of about ``bundle_bytes``; anything else through ``fallback``."""

    def __init__(self, context: execution.BundleContextManager, progress_frequency: float | None,
                 cache_token_generator: object, fallback: fn_runner.BundleManager,
                 settings: ShuffleSettings) -> None:
        super().__init__(context, progress_frequency, cache_token_generator=cache_token_generator)
        self.fallback = fallback
        self.settings = settings

    def process_bundle(self, inputs: Mapping[str, execution.PartitionableBuffer], expected_outputs: Mapping,
                       fired_timers: Mapping, expected_output_timers: Mapping,
                       dry_run: bool = False) -> fn_runner.BundleProcessResult:
        stop_if_interrupted()  # a signal whose raise a finalizer swallowed stops the build here (interrupts.py)
        if not self._bounded(inputs, fired_timers, expected_output_timers):
            return self.fallback.process_bundle(inputs, expected_outputs, fired_timers, expected_output_timers,
                                                dry_run)
        ((name, buffer),) = inputs.items()
        handlers = list(self.bundle_context_manager.worker_handlers)
        max_keys = None
        if len(handlers) > 1 and isinstance(buffer, SpillingGroupingBuffer):  # enough bundles to share out
            max_keys = max(1, -(-buffer.key_count() // (BUNDLES_PER_WORKER * len(handlers))))
        chunks = _Shared(buffer.chunks(self.settings.bundle_bytes, max_keys))

        def run(handler: object) -> list[fn_runner.BundleProcessResult]:
            manager = self._manager_for(handler)
            results = []
            while (chunk := chunks.next()) is not None:
                try:
                    stop_if_interrupted()
                    with _Routing(handler, self.bundle_context_manager, expected_outputs, dry_run):
                        results.append(manager.process_bundle({name: [chunk]}, expected_outputs, {},
                                                              expected_output_timers, dry_run))
                except BaseException:
                    chunks.stop()
                    raise
            return results

        if len(handlers) == 1:
            results = run(handlers[0])
        else:
            with ThreadPoolExecutor(len(handlers), thread_name_prefix="bundles") as pool:
                try:
                    results = list(itertools.chain.from_iterable(pool.map(run, handlers)))
                except BaseException:  # Ctrl-C here, or a bundle's failure: no worker takes another chunk
                    chunks.stop()
                    raise
        if not results:  # an empty input is still a bundle: a DoFn may emit from finish_bundle
            results = [self._manager_for(handlers[0]).process_bundle({name: []}, expected_outputs, {},
                                                                    expected_output_timers, dry_run)]
        return _merged(results)

    def _manager_for(self, handler: object) -> fn_runner.BundleManager:
        """Beam's own bundle manager, given only ``handler``'s worker."""
        return _DirectInputBundleManager(_PinnedContext(self.bundle_context_manager, handler),
                                         self._progress_frequency, cache_token_generator=self._cache_token_generator)

    def _bounded(self, inputs: Mapping, fired_timers: Mapping, expected_output_timers: Mapping) -> bool:
        """Whether this runs in bounded bundles. A small collection that was passed between stages whole
        (a list buffer, not grouped) goes to several workers as Beam splits it, element by element."""
        buffer = next(iter(inputs.values()), None)
        if not (len(inputs) == 1
                and isinstance(buffer, SpillingGroupingBuffer | SpillingListBuffer)
                and not any(fired_timers.values()) and not expected_output_timers
                and not self.bundle_context_manager.stage.is_stateful()
                and self._select_split_manager() is None):
            return False
        if isinstance(buffer, SpillingListBuffer) and len(self.bundle_context_manager.worker_handlers) > 1:
            return buffer.spilled_runs > 0 or buffer.held_bytes > self.settings.bundle_bytes
        return True


class _DirectInputBundleManager(fn_runner.BundleManager):
    """Beam's bundle manager, handing an in-process worker its input as one message made from the chunk itself.
    Beam's own copies the chunk into an output stream, out of it again, and into the message: two copies of
    each bundle's input more than this (sending input took 0.4 % of a one-worker build's run that way,
    py-spy's samples in bench/time_shares.py, 2026-12-02)."""

    def _send_input_to_worker(self, process_bundle_id: str, read_transform_id: str, byte_streams: object) -> None:
        channel = self._worker_handler.data_conn
        if not isinstance(channel, data_plane.InMemoryDataChannel):
            super()._send_input_to_worker(process_bundle_id, read_transform_id, byte_streams)
            return
        # What Beam's in-memory stream sends on close: one message with all the bytes, empty or not.
        channel.inverse()._inputs.append(beam_fn_api_pb2.Elements.Data(
            instruction_id=process_bundle_id, transform_id=read_transform_id, data=b"".join(byte_streams or [])))


class _Routing:
    """While a bundle runs on an in-process worker, its data goes straight to the stage's buffers."""

    def __init__(self, handler: object, context: execution.BundleContextManager, expected_outputs: Mapping,
                 dry_run: bool) -> None:
        self.channel = getattr(handler, "data_conn", None)
        self.context, self.expected_outputs, self.dry_run = context, expected_outputs, dry_run
        self.worker_side: data_plane.InMemoryDataChannel | None = None  # whose output_stream this bundle replaced

    def __enter__(self) -> None:
        if self.dry_run or not isinstance(self.channel, data_plane.InMemoryDataChannel):
            return
        routes = {transform_id: self._to_buffer(transform_id) for transform_id in self.expected_outputs}
        # The worker's operations ask its side of the channel for their output streams when the bundle starts,
        # so no routed output reaches the runner side's inbox as a message.
        self.worker_side = self.channel.inverse()
        self.worker_side.output_stream = _direct_output_streams(self.worker_side, routes)

    def _to_buffer(self, transform_id: str) -> Callable[[bytes], None]:
        def append(data: bytes) -> None:
            with fn_runner.BundleManager._lock:
                self.context.get_buffer(self.expected_outputs[transform_id], transform_id).append(data)
        return append

    def __exit__(self, *exc_info: object) -> None:
        if self.worker_side is not None:  # whatever happened: Beam's own output streams again
            self.worker_side.__dict__.pop("output_stream", None)
            self.worker_side = None


class _Shared:
    """One iterator of chunks, taken from by several threads; the first failure stops them all."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._lock, self._stopped = chunks, threading.Lock(), False

    def next(self) -> bytes | None:
        with self._lock:
            if self._stopped:
                return None
            try:
                return next(self._chunks)
            except StopIteration:
                self._stopped = True
                return None
            except BaseException:
                self._stopped = True
                raise

    def stop(self) -> None:
        with self._lock:
            self._stopped = True


def _merged(results: list[fn_runner.BundleProcessResult]) -> fn_runner.BundleProcessResult:
    if len(results) == 1:
        return results[0]
    responses = [response for response, _ in results]
    merged = beam_fn_api_pb2.InstructionResponse(
        process_bundle=beam_fn_api_pb2.ProcessBundleResponse(
            monitoring_infos=monitoring_infos.consolidate(itertools.chain.from_iterable(
                response.process_bundle.monitoring_infos for response in responses)),
            residual_roots=list(itertools.chain.from_iterable(
                response.process_bundle.residual_roots for response in responses))),
        error=next((response.error for response in responses if response.error), ""))
    return merged, list(itertools.chain.from_iterable(splits for _, splits in results))
