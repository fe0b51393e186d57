"""``warcforge``: the command-line entry point, one argparse subcommand per command, and ``--version``.

This parser knows only the commands: each command's options are its own module's, and everything
after the command's name is passed to it as given (``warcforge build --help`` is ``build``'s help).

``warcforge build`` (and ``refresh``, ``materialize``) runs the build in a child process in its own session, and
forwards Ctrl-C and SIGTERM to that process alone. A terminal sends Ctrl-C to every process of its foreground
group: Beam's worker processes would each die with a traceback while the build cleans up. In
their own session they never see it; the build stops them, and anything left of them is killed
once the build has exited. Commands are imported when run, so this process stays light (no Beam).
"""

import argparse
import difflib
import importlib
import os
import signal
import subprocess
import sys
import threading
import traceback

from beam_jobs.build_args import EXIT_CODES, EXIT_USAGE

# name: (one-line description, how it runs). "session": ``python -m beam_jobs.<name>`` in its own session
# (through beam_jobs.job);
# "import": ``beam_jobs.<name>.main(argv)`` in this process.
COMMANDS = {
    "build": ("turn WARC shards into deduplicated, deterministic Parquet", "session"),
    "refresh": ("build and publish each selected crawl not yet published", "session"),
    "watch": ("publish batches of new WARC files as they land (streaming)", "session"),
    "lock": ("record what decides a build's bytes, for 'build --lock'", "import"),
    "verify": ("check a published dataset against its manifest", "import"),
    "materialize": ("rebuild the documents a pointer dataset points at", "session"),
    "report": ("write an HTML page about a dataset: funnel, languages, ...", "import"),
    "inspect": ("show a dataset: schema, files, funnel, sample documents", "import"),
    "sample": ("write the deterministic sample WARC shards", "import"),
    "crawls": ("list Common Crawl's crawls, newest first", "import"),
}
# A command whose module has another name: beam_jobs/inspect.py would hide the standard library's inspect
# from a job file run as a script (the Dataflow launcher runs beam_jobs/build.py by path).
MODULES = {"inspect": "inspection"}
USAGE = """warcforge <command> [options]
       warcforge --version | -V"""
EPILOG = f"""'warcforge <command> --help' describes a command's options, with examples.

{EXIT_CODES}"""


class VersionAction(argparse.Action):
    """``--version``: the installed version, looked up only when asked. importlib.metadata and the search of the
    installed packages' metadata took 0.04 s of every command's start here, before the command's own process."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from importlib import metadata

        print(f"warcforge {metadata.version('warcforge')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge", usage=USAGE, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Turn Common Crawl WARC files into deterministic, deduplicated Parquet datasets.", epilog=EPILOG)
    parser.add_argument("-V", "--version", action=VersionAction, help="show the installed version and exit")
    commands = parser.add_subparsers(dest="command", metavar="<command>", title="commands", required=True)
    for name, (summary, _) in COMMANDS.items():
        # The command parses its own options (and --help): this parser passes them on untouched.
        commands.add_parser(name, help=summary, add_help=False, prefix_chars="\0")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv:
        print(parser.format_help().rstrip())
        return EXIT_USAGE
    if not argv[0].startswith("-") and argv[0] not in COMMANDS:
        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        print(f"warcforge: unknown command {argv[0]!r}{hint}\n\n{parser.format_usage()}"
              f"commands: {', '.join(COMMANDS)}; 'warcforge --help' describes them", file=sys.stderr)
        return EXIT_USAGE
    # --help and --version end here (exit 0), as does an option before the command (exit 2); what follows the
    # command is its own, passed on as given.
    args, rest = parser.parse_known_args(argv)
    command = args.command
    if argv[0] != command:
        parser.error(f"unrecognized arguments: {argv[0]} (a command's options go after its name)")
    if COMMANDS[command][1] == "session":
        # beam_jobs.job runs beam_jobs.<command> as ``python -m`` would, without the collector while it imports.
        return run_in_own_session([sys.executable, "-m", "beam_jobs.job", command, *rest])
    name = MODULES.get(command, command)
    try:
        module = importlib.import_module(f"beam_jobs.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"beam_jobs.{name}":
            raise
        if "--verbose" in rest:
            traceback.print_exc()
        print(f"warcforge: error: the {command} command is not installed in this version ({exc})", file=sys.stderr)
        return EXIT_USAGE
    return module.main(rest)


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
