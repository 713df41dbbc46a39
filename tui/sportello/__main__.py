"""``python -m sportello``: the same as the ``sportello`` command."""

from sportello.cli import main

raise SystemExit(main())
