"""The version of modelcollapse, recorded in every manifest and checked on workers.

This assignment is the one place the version is written: ``pyproject.toml`` reads it from here
(``[tool.setuptools.dynamic]``). A literal rather than ``importlib.metadata.version`` because
reading the installed metadata costs about 50 ms at every start (it imports the ``email``
package), which is a fifth of ``modelcollapse --help``.
"""

from __future__ import annotations

__version__ = "0.1.0"
