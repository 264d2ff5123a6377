"""EPANET networks: the ``.inp`` files shipped inside installed packages, or any file a user gives.

WNTR ships a small library of real and benchmark networks (``wntr/library/networks``: Net1, Net2, Net3,
ky4, ky10, Net6). :func:`available_networks` lists every ``.inp`` found there and in any other installed
distribution that ships one; :func:`load_network` opens one by name or by path.

Networks known to work with the simulator (reservoir/tank-fed, positive demands): Net1, Net3, ky4.
Net2 is fed by a negative demand (a source junction) and is refused by :mod:`gmina.sim.zones`; ky10 and
Net6 load but are slow (hundreds of controls, many iterations per step).
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import wntr  # type: ignore[import-untyped,unused-ignore]

WaterNetworkModel = Any
"""``wntr.network.WaterNetworkModel`` (WNTR ships no type information)."""

WNTR_LIBRARY = Path(wntr.__file__).parent / "library" / "networks"


class NetworkError(ValueError):
    """A network name or file that cannot be used."""


@cache
def available_networks() -> dict[str, Path]:
    """Every EPANET network shipped inside an installed package: name (file stem) → path.

    WNTR's library comes first; another package's file with the same stem is listed as ``package:stem``.
    """
    found: dict[str, Path] = {}
    if WNTR_LIBRARY.is_dir():
        for path in sorted(WNTR_LIBRARY.glob("*.inp")):
            found[path.stem] = path
    for dist in metadata.distributions():
        name = dist.name or "unknown"
        if name.lower() == "wntr":
            continue
        for file in dist.files or ():
            if file.suffix.lower() != ".inp":
                continue
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                key = path.stem if path.stem not in found else f"{name}:{path.stem}"
                found.setdefault(key, path)
    return found


def resolve_network(name_or_path: str | Path) -> Path:
    """The ``.inp`` file for a library name (``Net3``) or a path; raises :class:`NetworkError`."""
    text = str(name_or_path)
    library = available_networks()
    if text in library:
        return library[text]
    lowered = {k.lower(): v for k, v in library.items()}
    if text.lower() in lowered:
        return lowered[text.lower()]
    path = Path(text)
    if path.is_file():
        return path
    names = ", ".join(sorted(library))
    raise NetworkError(f"unknown network {text!r}: not a file and not one of the installed networks ({names})")


def load_network(name_or_path: str | Path) -> WaterNetworkModel:
    """A fresh ``WaterNetworkModel`` for a library name or an ``.inp`` path (units inside are SI)."""
    path = resolve_network(name_or_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # WNTR warns about option limits of old files
        try:
            return wntr.network.WaterNetworkModel(str(path))
        except Exception as exc:
            raise NetworkError(f"{path}: cannot read the EPANET file: {exc}") from exc
