"""How long the generator takes, for the benchmark report."""

import subprocess
import sys
import time
from pathlib import Path


def generator_times(root: Path, quick: bool) -> dict[str, float]:
    """Seconds for a full and a no-op build (``--check`` in a fresh process,
    without and with the cache), and for ``import generated`` beyond
    ``import jax``."""
    times = {}
    if not quick:
        check = [sys.executable, "-m", "codegen", "--check", "--root", str(root)]
        for name, command in (("full build", [*check, "--no-cache"]), ("no-op build", check)):
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            times[name] = time.perf_counter() - start
    script = (
        "import time; t = time.perf_counter(); import jax; u = time.perf_counter(); "
        "import generated; print(u - t, time.perf_counter() - u)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root)
    jax_import, extra = map(float, out.stdout.split())
    return {**times, "import jax": jax_import, "import generated after jax": extra}
