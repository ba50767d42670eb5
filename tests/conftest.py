"""Every test writes its run registry under its own temporary folder, never into the checkout."""

import pytest


@pytest.fixture(autouse=True)
def _registry(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path_factory.mktemp("registry")
    monkeypatch.setenv("UPRISING_REGISTRY", str(folder / "registry.duckdb"))
