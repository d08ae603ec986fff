"""``python -m xlplugin``: the ``pscore`` command line."""

from xlplugin.cli import main

main()
