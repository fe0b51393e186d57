"""One poll of a watch: list the source, find the files that are complete and not yet taken, claim
each for the batch of this poll, and say which to read.

The caller keeps two things between polls (the runner's state, on Flink checkpointed with the
job): the sizes the last listing gave (for ``stable_size``) and which files (and which attempt of
each) it sent on already. What must outlive the runner's state is on the root: the ledger (files
published, attempts failed) and the claims (which batch each file in flight belongs to).
"""

import logging
from dataclasses import dataclass, field

from transforms.common.batch_ledger import BatchLedger, FileHistory
from transforms.common.batches import window_of
from transforms.common.secrets import redact_text
from transforms.reading.arrivals import WatchSource, complete_files, input_file, list_source
from transforms.reading.claims import Claim, Claims
from transforms.reading.resumable_file import RetryPolicy
from transforms.reading.sources import InputFile

log = logging.getLogger("warcforge.watch")


@dataclass(frozen=True)
class PollSettings:
    source: WatchSource
    policy: RetryPolicy
    root: str  # the watch's output root (URL or absolute path)
    window_s: int
    max_file_attempts: int
    poll_interval_s: float


@dataclass
class PollState:
    """What a poll leaves for the next one; ``None`` from the runner means a fresh watch."""

    sizes: dict[str, int | None] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)  # file -> attempt sent on


@dataclass(frozen=True)
class PollResult:
    state: PollState
    arrived: list[tuple[InputFile, int]]  # files to read, each with its arrival time (ms): its batch
    given_up: list[str]  # complete files not read again: their attempts reached the cap


class Poller:
    def __init__(self, settings: PollSettings) -> None:
        self.settings = settings
        self.ledger = BatchLedger.at(settings.root)
        self.claims_file = Claims(settings.root)
        self._claims: dict[str, Claim] | None = None  # as last written; read once per poller

    def poll(self, now_ms: int, state: PollState | None) -> PollResult:
        """Raises OSError (or a source's own error) when the source cannot be listed: poll again later."""
        s = self.settings
        fresh = state is None
        state = state or PollState()
        history = FileHistory.of(self.ledger.read())
        if self._claims is None:
            self._claims = self.claims_file.read()
        claims = {url: c for url, c in self._claims.items() if url not in history.published}
        changed = len(claims) != len(self._claims)
        # A new claim never goes to a batch at or before one already published: a runner replaying polls
        # after a failure replays them with their old times, and those batches will not be published again.
        claim_ms = max(now_ms, history.published_until_ms)
        start, _ = window_of(claim_ms, s.window_s)
        if start < history.published_until_ms:
            # batch_window_s changed since: the window holding that time overlaps a published batch.
            claim_ms = window_of(history.published_until_ms - 1, s.window_s)[1]
        if fresh:
            # No runner state to restore: nothing will publish the batches these claims named. Their
            # files go to this poll's batch.
            for url, claim in claims.items():
                if claim.arrived_ms != claim_ms:
                    claims[url], changed = Claim(claim_ms, claim.attempt), True
        listing = list_source(s.source, s.policy, now_ms)
        complete = complete_files(listing, state.sizes, s.source)
        sent = {key: attempt for key, attempt in state.sent.items() if key not in history.published}
        arrived: list[tuple[InputFile, int]] = []
        given_up: list[str] = []
        for url in complete:
            key = redact_text(url)
            if key in history.published:
                continue
            failed = history.failed_attempts.get(key, 0)
            if failed >= s.max_file_attempts:
                given_up.append(key)
                continue
            attempt = failed + 1
            if sent.get(key) == attempt:
                continue
            claim = claims.get(key)
            if claim is not None and claim.attempt == attempt and claim.arrived_ms >= now_ms:
                at = claim.arrived_ms  # a replayed poll: the batch it was given before
            elif claim is not None and claim.attempt == attempt and window_of(claim.arrived_ms, s.window_s) == \
                    window_of(claim_ms, s.window_s):
                at = claim_ms  # the same batch, not earlier than this poll
            else:
                if claim is not None and claim.attempt == attempt:
                    log.warning("file %s was claimed for an earlier batch that never closed; it goes to this one", key)
                claims[key], changed, at = Claim(claim_ms, attempt), True, claim_ms
            sent[key] = attempt
            arrived.append((input_file(listing, url, s.source), at))
        if changed:
            # Claims reach the root before the files go on: a replay finds them.
            self.claims_file.write(claims)
        self._claims = claims
        return PollResult(PollState(dict(listing.sizes), sent), arrived, given_up)
