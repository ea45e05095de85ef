"""Airflow test setup: environment first (quarry_airflow_testlib sets it on import), then the shared fixtures."""

from __future__ import annotations

import pytest

import quarry_airflow_testlib as lib


@pytest.fixture(scope="session")
def dagbag():
    return lib.load_dagbag()


@pytest.fixture(scope="session")
def built_index():
    """One end-to-end run of the build DAG on data-samples/ for the whole session (lib.build_e2e_index): the
    end-to-end test checks it and evaluates its version with the evaluation DAG; the refresh test refreshes that
    version with the refresh DAG, on the same Airflow home and work base (one build instead of one per test)."""
    return lib.build_e2e_index()
