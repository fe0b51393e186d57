"""``warcforge``: the command-line entry point (build, refresh, sample, crawls, --version).

``warcforge build`` (and ``refresh``) runs the build in a child process in its own session, and forwards Ctrl-C
and SIGTERM to that process alone. A terminal sends Ctrl-C to every process of its foreground
group: Beam's worker processes would each die with a traceback while the build cleans up. In
their own session they never see it; the build stops them, and anything left of them is killed
once the build has exited. Commands are imported when run, so this process stays light.
"""

import os
import signal
import subprocess
import sys
import threading
from importlib import metadata

USAGE = """usage: warcforge <command> [options]
       warcforge --version | -V

commands:
  build   --config RECIPE --output DIR [--input PATH_OR_URL ...] [--overwrite] [Beam options]
  build   --lock LOCK --output DIR [--allow-drift] [--input-root FOLDER_OR_URL] [Beam options]
          turn WARC shards into deduplicated Parquet training shards
  materialize POINTERS --output DIR [--input-root FOLDER_OR_URL] [--overwrite] [Beam options]
          fetch the records a pointer dataset names and rebuild its documents, checked
  lock    --config RECIPE -o LOCK [--input PATH_OR_URL ...] [--hash-inputs]
          write down everything that decides a build's bytes, for 'build --lock' to repeat
  refresh --config RECIPE --output ROOT [--index-url URL] [--rebuild CRAWL_ID|all] [--dry-run] [Beam options]
          build and publish each crawl the recipe selects that ROOT does not have yet
  sample  DIR [--seed N]
          write the deterministic sample WARC shards into DIR
  crawls  [--index-url URL] [--limit N] [--json]
          list Common Crawl's crawls, newest first
  verify  DIR [--verbose]
          check a published dataset against its manifest: files, sha256, rows, schema, counts

'warcforge <command> --help' describes a command; 'warcforge build --help' lists the exit codes."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(f"warcforge {metadata.version('warcforge')}")
        return 0
    command, rest = argv[0], argv[1:]
    if command in ("build", "refresh", "materialize"):
        return run_in_own_session([sys.executable, "-m", f"beam_jobs.{command}", *rest])
    if command == "lock":
        from beam_jobs import lock
        return lock.main(rest)
    if command == "sample":
        from beam_jobs import sample
        return sample.main(rest)
    if command == "crawls":
        from beam_jobs import crawls
        return crawls.main(rest)
    if command == "verify":
        from beam_jobs import verify
        return verify.main(rest)
    print(f"warcforge: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


GRACE_S = 60.0


def _kill_session(child: subprocess.Popen) -> None:
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run_in_own_session(command: list[str]) -> int:
    """Run ``command`` in a new session; Ctrl-C and SIGTERM reach it alone. Returns its exit status."""
    child = subprocess.Popen(command, start_new_session=True)

    def forward(signum: int, frame: object) -> None:
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass
        # The build cleans up in seconds; one stuck past this is stopped with its whole session.
        timer = threading.Timer(GRACE_S, _kill_session, (child,))
        timer.daemon = True
        timer.start()

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        returncode = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        try:  # whatever the build left running in its session (worker processes) goes with it
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return 128 - returncode if returncode < 0 else returncode


if __name__ == "__main__":
    sys.exit(main())
