"""Claims: which batch each arrived file was given to, kept under ``ROOT/_watch/claims.json``.

The poller claims a file for the batch of the poll that found it complete, and writes the claim
before the file goes on. A runner that replays polls after a failure (Flink restoring its last
checkpoint) finds the claim and gives the file to the same batch, so a batch computed twice holds
the same files, and a published batch is never published again with other contents. A fresh
watch (no runner state to restore) gives the claims of batches never published to its first
batch. Claims of published batches are dropped. Only the one poller of the watch holding the
root's lease writes this file.
"""

import posixpath
from dataclasses import asdict, dataclass

import fsspec

from transforms.common.batch_ledger import WATCH_STATE_DIR
from transforms.common.tagged_json import read_tagged, write_tagged

CLAIMS = "claims.json"
CLAIMS_FORMAT = "warcforge-watch-claims/1"


@dataclass(frozen=True)
class Claim:
    arrived_ms: int  # the poll that found the file complete: its batch is the window holding this time
    attempt: int = 1


class Claims:
    def __init__(self, root_url: str) -> None:
        self.fs, root = fsspec.core.url_to_fs(root_url)
        self.path = posixpath.join(root.rstrip("/"), WATCH_STATE_DIR, CLAIMS)
        self.where = f"{root_url.rstrip('/')}/{WATCH_STATE_DIR}/{CLAIMS}"

    def read(self) -> dict[str, Claim]:
        found = read_tagged(self.fs, self.path, CLAIMS_FORMAT, "claims", lambda claim: Claim(**claim),
                            lambda why: f"{self.where} is not a warcforge claims file ({why})")
        return found or {}

    def write(self, claims: dict[str, Claim]) -> None:
        self.fs.makedirs(posixpath.dirname(self.path), exist_ok=True)
        write_tagged(self.fs, self.path, CLAIMS_FORMAT, "claims", {url: asdict(c) for url, c in sorted(claims.items())})
