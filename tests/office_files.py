"""Reading apbot's office files back with their own libraries, for assertions."""

from __future__ import annotations

import io
from typing import Any


def docx(data: bytes) -> Any:
    """The .docx as python-docx reads it (so Word's format is checked, not our writer)."""
    from docx import Document

    return Document(io.BytesIO(data))


def docx_lines(data: bytes) -> list[str]:
    """Every paragraph of the document body, tables' cells row by row ("a | b | c")."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in docx(data).iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            lines += [" | ".join(cell.text for cell in row.cells) for row in block.rows]
    return lines


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, as pypdf extracts it."""
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
