"""The environment cell every lesson opens with: Python, the course's packages, the hardware."""

from __future__ import annotations

import platform
import re
from importlib import metadata

COURSE_PACKAGES = ("alpaca-lessons", "torch", "transformers", "peft", "openai", "rouge-score", "matplotlib",
                   "ipywidgets", "jupyterlab", "nbval")


def versions(packages: tuple[str, ...] = COURSE_PACKAGES) -> dict[str, str]:
    """Installed version of each package ('not installed' when missing)."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def hardware() -> str:
    """A one-line description of the accelerator torch sees (or 'CPU only')."""
    try:
        import torch
    except ImportError:
        return "torch not installed"
    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "Apple MPS"
    return f"CPU only ({torch.get_num_threads()} threads)"


def report(packages: tuple[str, ...] = COURSE_PACKAGES, accelerator: bool = True) -> None:
    """Print versions and hardware, one per line. ``accelerator=False`` in a lesson that runs no model: finding
    the accelerator means importing torch (a second), which such a lesson never needs otherwise."""
    for name, version in versions(packages).items():
        print(f"{name:>14}  {version}")
    print(f"{'hardware':>14}  {hardware() if accelerator else 'not checked: this lesson runs no model'}")


def package_map() -> dict[str, str]:
    """Each public module of ``alpaca_lessons``, by stage folder, and the first sentence of its docstring.

    Keys are paths such as ``"training/sft"``; a stage folder appears under its own name, before its modules.
    Modules whose name starts with ``_`` and ``__main__`` entry points are left out. The docstrings are read
    from the source files, nothing is imported (importing every module would load torch: seconds)."""
    import ast
    from pathlib import Path

    import alpaca_lessons

    package = Path(alpaca_lessons.__file__).parent
    found = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or any(part.startswith("_") for part in parts):
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first_paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
        found["/".join(parts)] = re.split(r"(?<=[a-z0-9)`])\. (?=[A-Z])", first_paragraph)[0].rstrip(".")
    return dict(sorted(found.items()))
