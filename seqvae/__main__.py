"""``python -m seqvae``: the command line, as the ``seqvae`` script runs it."""
from seqvae.cli import main

main()
