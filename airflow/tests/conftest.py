"""Airflow test setup: environment first (quarry_airflow_testlib sets it on import), then the shared DagBag."""

from __future__ import annotations

import pytest

import quarry_airflow_testlib as lib


@pytest.fixture(scope="session")
def dagbag():
    return lib.load_dagbag()
