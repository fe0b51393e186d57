"""Where the benchmarks put their figures: one Markdown file each under docs/."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_report(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path.relative_to(REPO)}")
