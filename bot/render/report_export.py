"""Files for the funder's progress report: the Sachbericht as Word, PDF or Markdown, and
all updates as CSV for scripts.

The three report formats render the same `ReportDocument` (bot/render/report_document.py). User
text goes into each exactly as written: python-docx and fpdf2 take it as plain text; the
Markdown escapes every character that Markdown or pandoc's smart quotes would read.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.render.format import short_day
from bot.render.report_document import Block, Bullets, Heading, Paragraph, ReportDocument, Table
from workflows.plan import Plan
from workflows.progress import MilestoneMark, Update

REPORT_FORMATS = ("docx", "pdf", "md")

# Characters XML (and so .docx) cannot hold, and lone surrogates, which no file can: the
# only ones not kept as written. Telegram text can, rarely, hold either.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _safe(text: str) -> str:
    return _UNWRITABLE.sub("\ufffd", text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- Markdown ---------------------------------------------------------------------------

# Always escaped: Markdown's inline syntax, HTML, entities, and the quotes pandoc's smart
# typography would curl. A backslash before any ASCII punctuation is a literal in
# CommonMark and pandoc.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&\"'])")
_MD_DASHES = re.compile(r"-(?=-)|(?<=-)-")  # "--" would become an en dash in pandoc
_MD_DOTS = re.compile(r"\.(?=\.\.)")  # "..." an ellipsis
_MD_LINE_START = re.compile(r"^(\s*)(\d*)(#|>|[-+=](?=\s|$)|(?<=\d)[.)](?=\s|$)|=+\s*$)")


def md_escape(text: str) -> str:
    """Text that Markdown (CommonMark, pandoc) shows exactly as written."""
    out = _MD_INLINE.sub(r"\\\1", text)
    out = _MD_DASHES.sub(r"\\-", out)
    out = _MD_DOTS.sub(r"\\.", out)
    return "\n".join(_MD_LINE_START.sub(lambda m: m.group(1) + m.group(2) + "\\" + m.group(3),
                                         line) for line in out.split("\n"))


def _md_text(text: str, indent: str = "") -> str:
    """Escaped, each line break kept as a hard break (a backslash at the line's end)."""
    lines = [md_escape(line.strip()) for line in text.strip().split("\n")]
    return ("\\\n" + indent).join(lines)


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * (block.level + 1) + " " + md_escape(_one_line(block.text)), ""]
    if isinstance(block, Paragraph):
        text = _md_text(block.text)
        return [f"*{text}*" if block.emphasis else text, ""]
    if isinstance(block, Bullets):
        return [*(f"- {_md_text(item, '  ')}" for item in block.items), ""]
    cells = [[md_escape(_one_line(c)) for c in row] for row in (block.columns, *block.rows)]
    lines = [f"| {' | '.join(row)} |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in block.columns) + "|")
    return [*lines, ""]


def report_markdown(doc: ReportDocument) -> str:
    """The report as Markdown, for the command line (`export report --format md`)."""
    lines = [f"# {md_escape(_one_line(doc.title))} – {md_escape(_one_line(doc.subtitle))}", ""]
    # Two trailing spaces: a line break, so the facts stay on their own lines.
    lines += [f"{label}: {md_escape(value)}  " for label, value in doc.facts]
    lines.append("")
    for block in doc.blocks:
        lines += _md_block(block)
    return "\n".join(lines).rstrip("\n") + "\n"


# -- Word ---------------------------------------------------------------------------------

PAGE_WIDTH_CM, PAGE_HEIGHT_CM, MARGIN_CM = 21.0, 29.7, 2.0  # A4


def _docx_facts(document: Any, facts: tuple[tuple[str, str], ...]) -> None:
    for label, value in facts:
        para = document.add_paragraph()
        para.add_run(f"{label}: ").bold = True
        para.add_run(_safe(value))
        para.paragraph_format.space_after = 0


def _repeat_header(row: Any) -> None:
    """The header row is repeated on every page the table runs over."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    mark = OxmlElement("w:tblHeader")
    mark.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(mark)


def _docx_table(document: Any, block: Table) -> None:
    from docx.shared import Cm, Pt

    table = document.add_table(rows=1, cols=len(block.columns))
    table.style = "Table Grid"
    table.autofit = False
    usable = PAGE_WIDTH_CM - 2 * MARGIN_CM
    widths = [Cm(usable * w / sum(block.widths)) for w in block.widths]
    for cell, title in zip(table.rows[0].cells, block.columns, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    _repeat_header(table.rows[0])
    for values in block.rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = _safe(value)
    # Word reads the cells' widths, LibreOffice the grid's: set both.
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9.5)


def report_docx(doc: ReportDocument) -> bytes:
    """The report as a Word document (.docx) to open, edit and send on."""
    from docx import Document  # python-docx: imported when a report is wanted
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    normal = document.styles["Normal"]
    normal.font.size = Pt(11)
    # German spelling and hyphenation in Word and LibreOffice.
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "de-DE")
    normal.element.get_or_add_rPr().append(lang)
    props = document.core_properties
    props.title, props.subject = _safe(doc.title), _safe(doc.subtitle)
    props.author, props.language = "apbot", "de-DE"
    props.comments = "Entwurf aus den Meldungen im Team-Chat"

    def styled(text: str, style_id: str) -> None:
        # The template's style ids, set directly: python-docx looks a style name up
        # through every style of the template, and a report has hundreds of paragraphs.
        para = document.add_paragraph(_safe(text))
        para._p.style = style_id

    styled(doc.title, "Title")
    _docx_facts(document, doc.facts)
    for block in doc.blocks:
        if isinstance(block, Heading):
            styled(block.text, f"Heading{block.level}")
        elif isinstance(block, Paragraph):
            para = document.add_paragraph()
            run = para.add_run(_safe(block.text))
            run.italic = block.emphasis
        elif isinstance(block, Bullets):
            for item in block.items:
                styled(item, "ListBullet")
        else:
            _docx_table(document, block)
            document.add_paragraph()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# -- PDF ------------------------------------------------------------------------------------

FONT = "DejaVu"


def font_dir() -> Path:
    """matplotlib's own DejaVu fonts, found without importing matplotlib (slow)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib is not installed: its DejaVu fonts are missing")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def wrap_lines(pdf: Any, text: str, width: float) -> list[str]:
    """`text` broken into lines of at most `width` in the current font, at spaces (a word
    too long for a line at any character); every line break kept.

    fpdf2's multi_cell measures a line again for every character it adds, which makes
    a long report take seconds: here each word is measured once.
    """
    space = pdf.get_string_width(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        first, *rest = paragraph.split(" ")
        line, used = first, pdf.get_string_width(first)
        for word in (None, *rest):
            if word is not None:
                size = pdf.get_string_width(word)
                if used + space + size <= width:
                    line, used = f"{line} {word}", used + space + size
                    continue
                lines.append(line)
                line, used = word, size
            while used > width and len(line) > 1:  # a word longer than a line
                cut, cut_width = 0, 0.0
                for ch in line:
                    w = pdf.get_string_width(ch)
                    if cut and cut_width + w > width:
                        break
                    cut, cut_width = cut + 1, cut_width + w
                lines.append(line[:cut])
                line = line[cut:]
                used = pdf.get_string_width(line)
        lines.append(line)
    return lines


def report_pdf(doc: ReportDocument) -> bytes:
    """The report as a PDF (A4, DejaVu Sans: every character of the team's text)."""
    from fpdf import FPDF, FontFace
    from fpdf.enums import XPos, YPos

    class _PDF(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font(FONT, "", 8)
            self.cell(0, 6, f"{_safe(doc.title)} – Seite {self.page_no()} von {{nb}}",
                      align="C")

    pdf = _PDF(format="A4", unit="mm")
    fonts = font_dir()
    # Two faces only: reading a font costs about a third of a second.
    for style, name in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
        pdf.add_font(FONT, style, str(fonts / name))
    pdf.set_margins(MARGIN_CM * 10, MARGIN_CM * 10, MARGIN_CM * 10)
    pdf.set_auto_page_break(True, margin=MARGIN_CM * 10)
    pdf.set_title(_safe(doc.title))
    pdf.set_subject(_safe(doc.subtitle))
    pdf.set_author("apbot")
    pdf.set_lang("de-DE")
    pdf.add_page()
    width = pdf.epw

    def text(value: str, size: float = 10, style: str = "", h: float = 5.0,
             indent: float = 0.0) -> None:
        pdf.set_font(FONT, style, size)
        for line in wrap_lines(pdf, _safe(value), width - indent):
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(width - indent, h, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    text(doc.title, 20, "B", 10)
    pdf.ln(2)
    for label, value in doc.facts:
        text(f"{label}: {value}")
    for block in doc.blocks:
        if isinstance(block, Heading):
            if pdf.will_page_break(24):  # a heading stays with what follows it
                pdf.add_page()
            pdf.ln(4 if block.level == 1 else 2)
            text(block.text, 14 if block.level == 1 else 11, "B", 7 if block.level == 1 else 6)
        elif isinstance(block, Paragraph):
            pdf.ln(1)
            if block.emphasis:
                pdf.set_text_color(90, 90, 90)
            text(block.text)
            pdf.set_text_color(0, 0, 0)
        elif isinstance(block, Bullets):
            for item in block.items:
                pdf.set_font(FONT, "", 10)
                pdf.set_x(pdf.l_margin + 2)
                pdf.cell(4, 5, "•")
                text(item, indent=6)
        else:
            pdf.ln(2)
            pdf.set_font(FONT, "", 8.5)
            with pdf.table(col_widths=block.widths, text_align="LEFT", line_height=4.2,
                           headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
                           padding=1.2, repeat_headings=1) as table:
                for values in (block.columns, *block.rows):
                    row = table.row()
                    for value in values:
                        row.cell(_safe(value))
            pdf.ln(2)
    return bytes(pdf.output())


def render_report(doc: ReportDocument, fmt: str) -> bytes:
    """The report in one of REPORT_FORMATS."""
    if fmt == "docx":
        return report_docx(doc)
    if fmt == "pdf":
        return report_pdf(doc)
    if fmt == "md":
        return report_markdown(doc).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r}")


# -- CSV --------------------------------------------------------------------------------

# Excel runs a cell that starts with one of these as a formula ("- erledigt" → #NAME?).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(text: str) -> str:
    """A cell Excel shows as text, never runs as a formula (should the file end up there)."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


CSV_HEADER = ("Nr.", "Art", "Datum", "Uhrzeit", "AP", "Arbeitspaket", "Von", "Meldung",
              "Zustand", "Fortschritt (%)", "Meilenstein", "Weitergeleitet von",
              "Zurückgenommen")


def updates_csv(plan: Plan, updates: Iterable[Update], tz: ZoneInfo,
                marks: Iterable[MilestoneMark] = ()) -> bytes:
    """Every update and every milestone reported reached, oldest first, numbered 1, 2, 3 …
    without gaps: CSV for scripts (and German Excel), UTF-8 with BOM, semicolons.

    A milestone's row is dated the day it was reached, without a time (it names a day);
    its "Meldung" is the milestone's title.
    """
    rows: list[tuple[tuple[date, str, int, int], list[object]]] = []
    for u in updates:
        at = u.at.astimezone(tz)
        wp = plan.work_package(u.ap)
        rows.append(((at.date(), f"{at:%H:%M}", 0, u.id or 0), [
            "Meldung", f"{at:%d.%m.%Y}", f"{at:%H:%M}", wp.label if wp else u.ap,
            _text_cell(wp.title) if wp else "", _text_cell(u.author.name),
            _text_cell(u.text), u.state or "", "" if u.percent is None else u.percent, "",
            _text_cell(u.forwarded_from or ""), "ja" if u.withdrawn else "nein",
        ]))
    for mark in marks:
        milestone = plan.milestone(mark.milestone)
        wp = plan.work_package(milestone.ap) if milestone else None
        # After the day's reports: a day without a time of its own.
        rows.append(((mark.reached_on, "24:00", 1, mark.id or 0), [
            "Meilenstein", short_day(mark.reached_on), "", wp.label if wp else "",
            _text_cell(wp.title) if wp else "", _text_cell(mark.author.name),
            _text_cell(milestone.title) if milestone else "", "", "", mark.milestone, "",
            "ja" if mark.withdrawn else "nein",
        ]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for n, (_, row) in enumerate(sorted(rows, key=lambda r: r[0]), start=1):
        writer.writerow([n, *row])
    return out.getvalue().encode("utf-8-sig")
