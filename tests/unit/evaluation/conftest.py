"""Fail clearly when the shared Text2KGBench data is missing."""

from __future__ import annotations

import pytest

from tests.unit.evaluation.t2k_data import DATA


@pytest.fixture(scope="session", autouse=True)
def _shared_data_present() -> None:
    assert DATA.is_dir(), (f"the shared Text2KGBench data is not at {DATA}; looked beside "
                           "the checkout, above it and beside its origin; set VERIKG_SHARED_DATA "
                           "to the folder holding text2kgbench/")
