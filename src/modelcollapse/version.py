"""The installed version of modelcollapse, recorded in every manifest and checked on workers."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("modelcollapse")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"
