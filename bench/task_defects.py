"""τ-bench v1's test tasks that τ² changed, and which of them our deterministic checks flag.

    python bench/task_defects.py [--taubench ../shared/taubench] [--tau2 ../shared/tau2bench/data]

Prints the table the README shows (apigen_mt.task_defects): per domain, for the audit's
deterministic checks and for `validate`, how many v1 tasks have a τ² version, how many of
those had their gold writes changed (defective in v1), how many of those the checks flag,
miss, and how many unchanged tasks they flag (false alarms).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from apigen_mt.task_defects import defect_table, markdown

ROOT = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taubench", type=Path, default=ROOT / "taubench")
    parser.add_argument("--tau2", type=Path, default=ROOT / "tau2bench" / "data")
    args = parser.parse_args()
    rows = [
        defect_table(domain, args.taubench, args.tau2, checks)
        for checks in ("audit", "validate")
        for domain in ("retail", "airline")
    ]
    print(markdown(rows), end="")
    for r in rows:
        print(f"{r.domain} {r.checks} flags by kind: {r.flagged_by_stage}")


if __name__ == "__main__":
    main()
