"""``python -m cryptolens`` runs the CLI."""

from cryptolens.cli import main

main()
