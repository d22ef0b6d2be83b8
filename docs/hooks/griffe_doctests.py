"""Griffe extension: docstring doctests and trailing prose, made readable by numpydoc.

Two habits of short docstrings confuse the numpydoc parser, and the source files are not
touched to suit the site:

* a doctest (``>>>`` lines) placed in the description would be read as Markdown, where an
  output such as ``[2, 1]`` looks like a link: it is wrapped in a ``pycon`` fence; a doctest
  that follows another section (*Raises*, say) gets an *Examples* header of its own;
* a paragraph of prose after the entries of a *Parameters* (or *Attributes*, *Raises*)
  section would be read as more entries: it gets a *Notes* header.
"""
from __future__ import annotations

import re

import griffe

_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_ENTRY = re.compile(r"^[\w.*]+(\s*,\s*[\w.*]+)*(\s*:.*)?$")
_ENTRY_SECTIONS = {"parameters", "other parameters", "attributes", "raises", "warns"}


def _header(indent: str, title: str) -> list[str]:
    return [f"{indent}{title}", f"{indent}{'-' * len(title)}"]


def fix_docstring(text: str) -> str:
    """The docstring with its doctests fenced or headed and trailing prose under *Notes*."""
    lines = text.splitlines()
    out: list[str] = []
    section = None
    base = ""
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped.startswith("```"):
            in_fence = not in_fence
        if in_fence or not stripped:
            out.append(line)
            i += 1
            continue
        if i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1]):
            section, base = stripped.lower(), indent
            out += [line, lines[i + 1]]
            i += 2
            continue
        if stripped.startswith(">>>") and section != "examples":
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            if section is None:
                out += [f"{indent}```pycon", *block, f"{indent}```"]
            else:
                if out and out[-1].strip():
                    out.append("")
                out += _header(base, "Examples") + block
                section = "examples"
            continue
        if (section in _ENTRY_SECTIONS and indent == base and out and not out[-1].strip()
                and not _ENTRY.match(stripped)):
            out += _header(base, "Notes")
            section = "notes"
        out.append(line)
        i += 1
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:  # noqa: ARG002 (griffe's signature)
        docstring = getattr(obj, "docstring", None)
        if docstring is not None:
            docstring.value = fix_docstring(docstring.value)
