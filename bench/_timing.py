"""Small helpers shared by the bench scripts: percentiles and writing results."""
from __future__ import annotations

import json
import statistics


def percentile_ms(times: list[float], q: float) -> float:
    """The q-quantile (0..1) of durations in seconds, in milliseconds."""
    s = sorted(times)
    return round(1000 * (statistics.median(s) if q == 0.5 else s[max(0, int(q * len(s)) - 1)]), 2)


def report(res: dict, path: str | None) -> None:
    print(json.dumps(res, indent=2))
    if path:
        with open(path, "w") as f:
            json.dump(res, f, indent=2)
