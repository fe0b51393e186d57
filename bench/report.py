"""Where the benchmarks put their figures: one Markdown file each under docs/, and the numbers the
cost model (bench/scale_model.py) reads as JSON under build/bench-figures/."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIGURES = REPO / "build" / "bench-figures"


def write_report(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path.relative_to(REPO)}")


def write_figures(name: str, figures: dict) -> None:
    """``figures`` for the cost model, replacing the last run's."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=1, sort_keys=True, default=str))


def read_figures(name: str) -> dict | None:
    path = FIGURES / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None
