"""A build shows its progress while it runs: a live bar on a terminal, lines when stderr is not one."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

from tests.conftest import WARCFORGE, write_recipe


def _recipe(tmp_path, sample_dir):
    # Near dedup makes the build last a few seconds: time for several updates.
    return write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}})


def test_on_a_terminal_the_bar_updates_while_the_build_runs(sample_dir, tmp_path):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    run = subprocess.Popen([WARCFORGE, "build", "--config", str(_recipe(tmp_path, sample_dir)), "--output",
                            str(tmp_path / "out")], stdin=follower, stdout=follower, stderr=follower, close_fds=True,
                           env=_terminal_env())
    os.close(follower)
    seen, deadline = b"", time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes when the build exits
                break
            if not chunk:
                break
            seen += chunk
        elif run.poll() is not None:
            break
    assert run.wait(timeout=60) == 0, seen.decode(errors="replace")[-2000:]
    text = seen.decode(errors="replace")
    frames = text.count("files  ")  # the bar's figures, drawn again on each refresh
    assert frames >= 2, text[-2000:]
    assert "\x1b[" in text  # drawn in place with the terminal's control sequences
    assert "/4 files" in text, text[-3000:]
    assert "MB/s" in text and "warcforge build:" in text


def test_without_a_terminal_progress_is_lines(sample_dir, tmp_path):
    env = {**os.environ, "WARCFORGE_PROGRESS_INTERVAL_S": "0.2"}
    result = subprocess.run([WARCFORGE, "build", "--config", str(_recipe(tmp_path, sample_dir)), "--output",
                             str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("warcforge: progress: ")]
    assert len(lines) >= 2 and all(" files, " in line and " elapsed" in line for line in lines)
    assert "\x1b[" not in result.stderr
    quiet = subprocess.run([WARCFORGE, "build", "--config", str(_recipe(tmp_path, sample_dir)), "--output",
                            str(tmp_path / "quiet"), "--progress", "none"], capture_output=True, text=True, env=env,
                           timeout=300)
    assert quiet.returncode == 0 and "warcforge: progress:" not in quiet.stderr


def test_ctrl_c_under_the_bar_gives_the_terminal_its_cursor_back(tmp_path):
    from tests.conftest import REPO

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
    run = subprocess.Popen([WARCFORGE, "build", "--config", str(REPO / "configs" / "sample.yaml"), "--input",
                            str(_big_input(tmp_path)), "--output", str(tmp_path / "out")],
                           stdin=follower, stdout=follower, stderr=follower, close_fds=True, env=_terminal_env())
    os.close(follower)
    seen = b""
    while b"\x1b[?25l" not in seen or b" files " not in seen:  # the bar is drawn
        ready, _, _ = select.select([leader], [], [], 30)
        assert ready, seen.decode(errors="replace")
        seen += os.read(leader, 65536)
    run.send_signal(2)
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        try:
            chunk = os.read(leader, 65536) if ready else b""
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert run.wait(timeout=60) == 130
    tail = seen[seen.rindex(b"\x1b[?25l"):]
    # the bar's line ended and the cursor shown again, then the one line that says what happened
    assert b"\n\x1b[?25hwarcforge: interrupted" in tail.replace(b"\r", b"")


def _big_input(tmp_path):
    """Enough copies of the sample for the build to run well past the first draw of the bar: about 25 s here.
    With 12 copies (7 s) the Ctrl-C of a loaded CI machine, where this test shares two cores with Flink's,
    once came after the build had published (exit 0). Only the copies written cost time: the build is stopped."""
    from sample_crawl.corpus import write_sample

    folder = tmp_path / "in"
    write_sample(folder)
    for path in sorted(folder.glob("*.warc.gz")):
        for copy in range(48):
            (folder / f"{path.stem}-{copy}.gz").write_bytes(path.read_bytes())
    return folder / "*.gz"


def _terminal_env() -> dict[str, str]:
    """The environment without COLUMNS and LINES (a test runner may set them): the pty's size decides."""
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
