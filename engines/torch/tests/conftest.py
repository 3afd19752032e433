"""Shared test setup: one thread (the CI and development machines are small and shared), paths into the repository."""
import os
import sys

import pytest
import torch

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.join(REPO, "test", "fixtures")
SLOW = os.environ.get("ALPHANET_SLOW_TESTS") == "1"


@pytest.fixture
def repo():
    return REPO


def pytest_configure(config):
    config.addinivalue_line("markers", "workbench: compares against the workbench's built Node CLI (out/main/cli.js)")
