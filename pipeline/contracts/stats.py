"""Per-run contract statistics: how often each check failed, its pass rate, and how many
corrective retries the samples needed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pipeline.contracts.spec import ContractSpec
from pipeline.models import CheckStats, ChunkExtraction, ContractStats


def contract_stats(extractions: Sequence[ChunkExtraction], spec: ContractSpec,
                   graph_failures: Mapping[str, int] | None = None) -> ContractStats:
    failed: Counter[str] = Counter()
    candidates = samples = retries = 0
    attempts: Counter[str] = Counter()
    for ex in extractions:
        for s in ex.samples:
            failed.update(s.check_failures)
            candidates += s.proposed
            samples += 1
            retries += s.attempts - 1
            attempts[str(s.attempts)] += 1
    failed.update(graph_failures or {})
    names = [c.check for c in (*spec.enabled("output"), *spec.enabled("postconditions"),
                               *spec.enabled("graph"))]
    names += sorted(set(failed) - set(names))

    def stats(name: str) -> CheckStats:
        n = failed.get(name, 0)
        rate = round(1 - n / candidates, 6) if candidates else 1.0
        return CheckStats(checked=candidates, failed=n, pass_rate=max(rate, 0.0))

    return ContractStats(candidates=candidates, samples=samples,
                         retries_per_sample=round(retries / samples, 6) if samples else 0.0,
                         attempts=dict(sorted(attempts.items())),
                         checks={n: stats(n) for n in names})


__all__ = [
    "contract_stats",
]
