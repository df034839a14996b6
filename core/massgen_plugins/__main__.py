"""``python -m massgen_plugins`` runs the CLI."""

from massgen_plugins.cli import main

main()
