"""``python -m cli``: the ``yizhan`` command."""

from cli.main import main

raise SystemExit(main())
