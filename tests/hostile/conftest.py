"""A closing line with the hostile-input corpus's case count.

The toy ontology and chunk the LLM cases run on (``toy``, ``chunk``) and the stores holding
the sentinel graph every hostile input must leave intact (``filled``: the compliance suite's
sample on each backend) are the shared fixtures of ``tests/fixtures.py``.
"""

from __future__ import annotations

import pytest

from tests.hostile.hostile_corpus import total


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = total()
    terminalreporter.write_sep("-", "hostile-input corpus (tests/hostile)")
    terminalreporter.write_line(
        f"{sum(counts.values())} cases: " + ", ".join(
            f"{name.removesuffix('.jsonl')} {n}" for name, n in counts.items()))
