"""The environment cell every lesson opens with: Python, the course's packages, the hardware."""

from __future__ import annotations

import platform
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


def report(packages: tuple[str, ...] = COURSE_PACKAGES) -> None:
    """Print versions and hardware, one per line."""
    for name, version in versions(packages).items():
        print(f"{name:>14}  {version}")
    print(f"{'hardware':>14}  {hardware()}")


def package_map() -> dict[str, str]:
    """Each public module of ``alpaca_lessons`` and the first paragraph of its docstring: what it is for."""
    import importlib
    import pkgutil

    import alpaca_lessons

    found = {}
    for info in sorted(pkgutil.iter_modules(alpaca_lessons.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # private helpers are not part of the course's map
            continue
        module = importlib.import_module(f"alpaca_lessons.{info.name}")
        first_paragraph = (module.__doc__ or "").strip().split("\n\n")[0]
        found[info.name] = " ".join(first_paragraph.split())
    return found
