"""Run every benchmark in ``bench/`` and print their figures.

Each benchmark prints its own table and, as its last line, one JSON object; this runs them in
turn (output passed through) and ends with one JSON object holding every benchmark's figures.
Usage: uv run python bench/run_all.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = ("read_documents.py", "gx_validate.py", "expectations_vs_pandas.py",
              "warehouse_load.py", "reports.py", "incremental.py", "demo_cycle.py")


def main() -> int:
    here = Path(__file__).resolve().parent
    combined, failed = {}, []
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        run = subprocess.run([sys.executable, str(here / name)], capture_output=True, text=True)
        sys.stderr.write(run.stderr[-4000:])
        lines = run.stdout.strip().splitlines()
        print("\n".join(lines[:-1]), flush=True)
        try:
            combined[name.removesuffix(".py")] = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            failed.append(name)
        if run.returncode != 0:
            failed.append(name)
    if failed:
        combined["failed"] = sorted(set(failed))
    print(json.dumps(combined))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
