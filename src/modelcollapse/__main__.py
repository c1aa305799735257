"""``python -m modelcollapse`` is the ``modelcollapse`` command."""

from .cli import main

raise SystemExit(main())
