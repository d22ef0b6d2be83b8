"""seqvae: sequence VAEs over discrete structures, aimed at synchronizing automata."""
__version__ = "0.1.0"
