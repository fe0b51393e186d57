"""The local runner of ``warcforge watch``: Beam's Prism, built from its Go module and cached.

The Python DirectRunner cannot run an unbounded pipeline (it falls back to a batch runner that
ignores ``--streaming``; docs/WATCH-RUNNER-NOTES.md). Prism can, and Beam's Python SDK drives it
with ``--runner=PrismRunner --prism_location=BINARY``. Beam would download a Prism release from
GitHub; warcforge instead builds the one of the installed SDK's version from the Go module proxy
(about a minute, once) into ``~/.cache/warcforge/prism/<version>/prism``. ``WARCFORGE_PRISM`` or
``--prism_location`` names a binary to use instead.
"""

import logging
import os
import shutil
import subprocess
from pathlib import Path

import apache_beam

from transforms.common.errors import WarcforgeError

PRISM_VARIABLE = "WARCFORGE_PRISM"
MODULE = "github.com/apache/beam/sdks/v2/go/cmd/prism"
BUILD_TIMEOUT_S = 900
log = logging.getLogger("warcforge")


class PrismUnavailableError(WarcforgeError):
    """No Prism binary, and none can be built here."""


def cached_binary() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "warcforge" / "prism" / apache_beam.__version__ / "prism"


def prism_binary() -> str:
    """A Prism binary of the installed Beam's version: named, cached, or built now with Go."""
    named = os.environ.get(PRISM_VARIABLE)
    if named:
        if not os.access(named, os.X_OK):
            raise PrismUnavailableError(f"{PRISM_VARIABLE}={named} is not an executable file")
        return named
    binary = cached_binary()
    if binary.is_file():
        return str(binary)
    go = shutil.which("go")
    if go is None:
        raise PrismUnavailableError(
            "warcforge watch runs locally on Beam's Prism runner, and there is no Prism binary in "
            f"{binary.parent} nor Go to build one: install Go (https://go.dev/dl/), set {PRISM_VARIABLE} to a "
            "Prism binary, or pass --runner with a cluster (FlinkRunner, DataflowRunner)")
    build_prism(go, binary)
    return str(binary)


def build_prism(go: str, binary: Path) -> None:
    version = f"v{apache_beam.__version__}"
    log.warning("building Beam's Prism runner %s with Go into %s (about a minute, once)", version, binary.parent)
    staging = binary.parent / f".build-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(staging), "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    try:
        built = subprocess.run([go, "install", "-ldflags=-s -w", f"{MODULE}@{version}"], env=env,
                               capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        if built.returncode != 0:
            last = (built.stderr.strip().splitlines() or ["no output"])[-1]
            raise PrismUnavailableError(f"building Prism {version} with {go} failed: {last}")
        os.replace(staging / "prism", binary)  # a finished binary appears at once, or not at all
    except subprocess.TimeoutExpired:
        raise PrismUnavailableError(f"building Prism {version} with {go} took over {BUILD_TIMEOUT_S} s") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
