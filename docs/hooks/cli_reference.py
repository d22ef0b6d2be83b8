"""MkDocs hook: the CLI reference page, generated from the typer app at build time.

``docs/cli.md`` holds the marker ``<!-- cli-reference -->``; this hook replaces it with one
section per command of ``seqvae`` (usage, help text, arguments, options), read from the
click command tree that typer builds. Nothing goes through rich: the text comes from the
click objects themselves, so the page has no terminal colours or box drawing.
"""
from __future__ import annotations

import os
import re

MARKER = "<!-- cli-reference -->"
_SPECIAL = re.compile(r"([\\*_<>\[\]|#])")


def _escape(text: str) -> str:
    """Markdown-escape text, leaving code spans (``x`` or `x`) untouched."""
    out = []
    for i, piece in enumerate(re.split(r"(`+[^`]*?`+)", text)):
        if i % 2:
            out.append("`" + piece.strip("`") + "`")
        else:
            out.append(_SPECIAL.sub(r"\\\1", piece))
    return "".join(out)


def _paragraphs(text: str) -> str:
    """Help text as Markdown paragraphs: blank lines separate them, other breaks are kept."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return "\n\n".join("  \n".join(_escape(line.strip()) for line in b.splitlines()) for b in blocks)


def _anchor(path: list[str]) -> str:
    return "-".join(path[1:]) or "seqvae"


def _render(command, ctx, path: list[str], lines: list[str]) -> None:
    # Duck-typed on purpose: recent typer versions ship their own copy of click, so the
    # objects are not instances of the installed click's classes.
    depth = min(len(path) + 1, 6)
    lines.append(f"{'#' * depth} `{' '.join(path)}` {{#{_anchor(path)}}}")
    lines.append("")
    usage = " ".join([" ".join(path)] + command.collect_usage_pieces(ctx))
    lines += ["```text", usage, "```", ""]
    if command.help:
        lines += [_paragraphs(command.help), ""]
    arguments = [p for p in command.get_params(ctx) if p.param_type_name == "argument"]
    options = [p for p in command.get_params(ctx) if p.param_type_name == "option"
               and not getattr(p, "hidden", False)]
    if arguments:
        lines += ["**Arguments**", ""]
        for arg in arguments:
            record = arg.get_help_record(ctx)
            if record is None:
                continue
            names, text = record
            text = " ".join(text.split())
            lines.append(f"- `{names}`" + (f": {_escape(text)}" if text else ""))
        lines.append("")
    if options:
        lines += ["**Options**", ""]
        for opt in options:
            record = opt.get_help_record(ctx)
            if record is None:
                continue
            names, text = record
            text = " ".join(text.split())
            lines.append(f"- `{names}`" + (f": {_escape(text)}" if text else ""))
        lines.append("")
    if hasattr(command, "list_commands"):
        subcommands = command.list_commands(ctx)
        if subcommands:
            lines += ["**Commands**", ""]
            for name in subcommands:
                sub = command.get_command(ctx, name)
                if sub is None or sub.hidden:
                    continue
                short = sub.get_short_help_str(limit=200)
                lines.append(f"- [`{name}`](#{_anchor(path + [name])}): {_escape(short)}")
            lines.append("")
        for name in subcommands:
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            _render(sub, sub.context_class(sub, info_name=name, parent=ctx), path + [name], lines)


def cli_reference() -> str:
    """The whole command tree of ``seqvae`` as Markdown."""
    # No colours or terminal widths may leak into the page, whatever the build's terminal.
    os.environ.setdefault("NO_COLOR", "1")
    os.environ["TERM"] = "dumb"
    os.environ.setdefault("COLUMNS", "100")
    import typer

    from seqvae.cli import app

    root = typer.main.get_command(app)
    lines: list[str] = []
    _render(root, root.context_class(root, info_name="seqvae"), ["seqvae"], lines)
    return "\n".join(lines)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 (MkDocs hook signature)
    if page.file.src_uri == "cli.md" and MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
