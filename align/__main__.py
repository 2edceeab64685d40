"""``python -m align`` is the ``align`` command."""

from .cli import main

main()
