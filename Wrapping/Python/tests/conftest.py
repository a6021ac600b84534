import os
import pathlib

import pytest


@pytest.fixture
def output_dir(request):
    """A clean folder per test under the build's Testing/Temporary."""
    root = pathlib.Path(os.environ.get("NSA_TEST_OUTPUT_DIR", "/tmp")) / "Python" / request.node.name
    if root.exists():
        for path in sorted(root.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    root.mkdir(parents=True, exist_ok=True)
    return root
