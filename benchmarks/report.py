"""Run the benchmarks and write the README's table from their own output, so no figure goes stale.

``.venv/bin/python -m benchmarks.report [NAME ...]`` runs the named benchmarks (default: all of
:data:`BENCHMARKS`, one after the other — about an hour on two cores) and rewrites the table
between the README's ``benchmarks:start`` and ``benchmarks:end`` markers. ``--table`` only
rewrites the table from the outputs already kept.

Each run's whole output is kept in ``artifacts/bench/NAME.txt``; its first line says when, on
which machine, under what load and at which commit it ran. The lines a benchmark prints with
:func:`benchmarks.common.headline` (``README: …``) are its figures in the table, beside that
first line: a figure is always shown with the date and machine it was measured on. A benchmark
that fails keeps its previous output, and the report says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from geo.settings import PROJECT_ROOT

KEPT = PROJECT_ROOT / "artifacts" / "bench"
README = PROJECT_ROOT / "README.md"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
PYTHON = ".venv/bin/python"


@dataclass(frozen=True)
class Benchmark:
    """One row of the table: what is measured and the command that measures it."""

    title: str
    command: tuple[str, ...]
    note: str = ""

    @property
    def shown(self) -> str:
        """The command as a reader types it."""
        return " ".join(self.command)


BENCHMARKS: dict[str, Benchmark] = {
    "startup": Benchmark(
        "start-up and memory of `yizhan serve`",
        (PYTHON, "-m", "benchmarks.bench_startup"),
        "`STARTUP_BEFORE=<commit>` measures that commit beside this one",
    ),
    "large_start": Benchmark(
        "one routing process at 176k road nodes",
        (PYTHON, "-m", "benchmarks.bench_large_start"),
        "`LARGE_URBAN_CELLS` sets the network's size",
    ),
    "nearest": Benchmark("nearest-3 with routes", (PYTHON, "-m", "benchmarks.bench_nearest")),
    "answer": Benchmark(
        "one rider's answer, stage by stage", (PYTHON, "-m", "benchmarks.bench_answer")
    ),
    "isochrones": Benchmark("isochrones", (PYTHON, "-m", "benchmarks.bench_isochrones")),
    "peers": Benchmark(
        "yizhan vs OSRM, Valhalla, igraph",
        (PYTHON, "-m", "benchmarks.bench_peers"),
        "the peers in a Python 3.12 venv it makes",
    ),
    "calibration": Benchmark(
        "e-bike minutes against Valhalla, per city and layout",
        (PYTHON, "-m", "benchmarks.bench_calibration", "--sample"),
    ),
    "scale": Benchmark(
        "1,000,000 nodes x 5,000 stations", (PYTHON, "-m", "benchmarks.bench_scale")
    ),
    "coverage": Benchmark(
        "coverage and new sites vs spopt",
        ("uv", "run", "--group", "bench", "python", "-m", "benchmarks.bench_coverage"),
    ),
    "cases": Benchmark("batch case assignment", (PYTHON, "-m", "benchmarks.bench_cases")),
    "jobs": Benchmark("riders under heavy analyses", (PYTHON, "-m", "benchmarks.bench_jobs")),
    "tiles": Benchmark(
        "basemap tiles vs TiPg",
        (PYTHON, "-m", "benchmarks.bench_tiles"),
        "TiPg in a venv of its own on the same database",
    ),
    "province": Benchmark("province on Dask", (PYTHON, "-m", "benchmarks.bench_province")),
    "load": Benchmark(
        "load (wrk, 2 workers)",
        (PYTHON, "-m", "benchmarks.load"),
        "`LOAD_BEFORE=<commit>` serves that commit beside this one",
    ),
}


def machine() -> str:
    """The machine, as one line: CPU model, cores, memory."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB"


def commit() -> str:
    """The checkout's commit (``+`` when it has uncommitted changes)."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return sha + ("+" if dirty else "")


def run(name: str, bench: Benchmark) -> bool:
    """Run one benchmark, keep its output with where and when it ran; whether it succeeded."""
    KEPT.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"# {bench.shown} — {when}, {machine()}, load {os.getloadavg()[0]:.1f} at start, "
        f"commit {commit()}"
    )
    print(f"== {name}: {bench.shown}", flush=True)
    started = time.perf_counter()
    command = list(bench.command)
    if command[0] == "uv" and shutil.which("uv") is None:  # installed for the user by bootstrap
        command[0] = str(Path.home() / ".local" / "bin" / "uv")
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    took = time.perf_counter() - started
    output = done.stdout + (
        f"\n--- stderr (last lines)\n{done.stderr[-3000:]}" if done.stderr else ""
    )
    if done.returncode != 0:
        failed = KEPT / f"{name}.failed.txt"
        failed.write_text(f"{header}\n{output}")
        print(f"   failed (exit {done.returncode}) after {took:.0f} s: see {failed}", flush=True)
        return False
    (KEPT / f"{name}.txt").write_text(f"{header}\n# took {took:.0f} s\n{output}")
    (KEPT / f"{name}.failed.txt").unlink(missing_ok=True)
    print(f"   done in {took:.0f} s", flush=True)
    return True


def figures(name: str) -> tuple[str, str] | None:
    """A kept output's figures and its first line (None: never run here)."""
    kept = KEPT / f"{name}.txt"
    if not kept.exists():
        return None
    lines = kept.read_text().splitlines()
    found = [line.removeprefix("README: ") for line in lines if line.startswith("README: ")]
    measured = lines[0].split(" — ", 1)[-1] if lines else ""
    return "; ".join(found) or "(printed no figures: see the output)", measured


def table() -> str:
    """The README's table, from every kept output."""
    rows = [
        "| benchmark | command | figures (printed by the benchmark) | measured |",
        "|---|---|---|---|",
    ]
    for name, bench in BENCHMARKS.items():
        got = figures(name)
        command = f"`{bench.shown}`" + (f" ({bench.note})" if bench.note else "")
        if got is None:
            rows.append(
                f"| {bench.title} | {command} | not measured yet by `benchmarks/report.py` "
                f"(`{PYTHON} -m benchmarks.report {name}`) | — |"
            )
            continue
        text, measured = got
        rows.append(
            f"| {bench.title} | {command} | {text.replace('|', '/')} | {measured} "
            f"([output](artifacts/bench/{name}.txt)) |"
        )
    return "\n".join(rows)


def write_readme() -> None:
    """Rewrite the table between the README's markers."""
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} … {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table()}\n{END}{tail}")
    print(f"README.md: the benchmarks' table rewritten from {KEPT.relative_to(PROJECT_ROOT)}/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--table", action="store_true", help="only rewrite the README's table")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}: {', '.join(BENCHMARKS)}")
    failed = []
    if not args.table:
        for name in args.names or list(BENCHMARKS):
            if not run(name, BENCHMARKS[name]):
                failed.append(name)
    write_readme()
    if failed:
        print(f"failed: {', '.join(failed)} (their previous figures, if any, stay)")
        sys.exit(1)


if __name__ == "__main__":
    main()
