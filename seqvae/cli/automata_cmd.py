"""CLI commands (filled in by their issue)."""


def register(app) -> None:
    """Attach this module's commands to the root typer app."""
