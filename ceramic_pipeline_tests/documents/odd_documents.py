"""Real-shaped DoclingDocuments with the awkward parts real extraction produces, built with
docling-core's API: tables, long headings, right-to-left text, nested lists, U+0000 and other
control characters."""

from __future__ import annotations

from docling_core.types.doc import DocItemLabel, DoclingDocument, TableCell, TableData

# What PDF extraction leaves in text: NUL, bell, escape, DEL, a C1 control, form feed, CR.
CONTROL_TEXT = "Extracted\x00 text with\x07 control\x1b characters\x7f and\x85 a form\x0c feed\r."


def _table(rows: list[list[str]]) -> TableData:
    data = TableData(num_rows=len(rows), num_cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            data.table_cells.append(
                TableCell(text=text, start_row_offset_idx=r, end_row_offset_idx=r + 1,
                          start_col_offset_idx=c, end_col_offset_idx=c + 1, column_header=r == 0)
            )
    return data


def control_characters() -> DoclingDocument:
    """NUL and other control characters in headings, paragraphs, list items and table cells."""
    doc = DoclingDocument(name="control-characters")
    doc.add_title("Firing\x00 log")
    doc.add_heading("Section\x00 with a NUL", level=1)
    doc.add_text(label=DocItemLabel.TEXT, text=CONTROL_TEXT)
    doc.add_text(label=DocItemLabel.TEXT, text="\x00")  # nothing but a NUL
    items = doc.add_list_group()
    doc.add_list_item("item\x00 one", parent=items)
    doc.add_list_item("item\ttwo\x01", parent=items)
    doc.add_table(data=_table([["cone", "temp\x00"], ["6", "1222\x1f"]]))
    return doc


def long_headings() -> DoclingDocument:
    """Legal-style clauses labelled as headings, some far longer than a normal title."""
    doc = DoclingDocument(name="long-headings")
    doc.add_title("Terms")
    clause = "Whereas the party of the first part, hereinafter the Studio, " * 40  # ~2,400 characters
    doc.add_heading(clause.strip(), level=1)
    doc.add_text(label=DocItemLabel.TEXT, text="Body under the long clause.")
    doc.add_heading("§ 2 " + "x" * 1500, level=2)
    doc.add_text(label=DocItemLabel.TEXT, text="Body under a deep heading.")
    return doc


def rtl_and_tables() -> DoclingDocument:
    """Arabic and Hebrew text (with bidi marks), mixed-direction headings and tables."""
    doc = DoclingDocument(name="rtl-and-tables")
    doc.add_title("دليل الفرن")
    doc.add_heading("الفصل الأول \u200f— Chapter 1", level=1)
    doc.add_text(label=DocItemLabel.TEXT, text="يجب أن تكون الأواني جافة تماماً قبل الحرق.")
    doc.add_heading("פרק שני", level=2)
    doc.add_text(label=DocItemLabel.TEXT, text="\u202bטקסט בעברית עם 1222°C בתוכו\u202c")
    doc.add_table(data=_table([["المخروط", "الحرارة"], ["6", "1222"], ["10", "1285"]]))
    doc.add_table(data=_table([["a", "b", "c"], ["1", "", "3"]]))
    return doc


def nested_lists() -> DoclingDocument:
    """Lists three levels deep under headings, with inline formatting-free items."""
    doc = DoclingDocument(name="nested-lists")
    doc.add_title("Checklist")
    doc.add_heading("Before firing", level=1)
    outer = doc.add_list_group()
    for i in range(3):
        item = doc.add_list_item(f"step {i}", parent=outer)
        inner = doc.add_list_group(parent=item)
        for j in range(2):
            sub = doc.add_list_item(f"step {i}.{j}", parent=inner)
            deepest = doc.add_list_group(parent=sub)
            doc.add_list_item(f"step {i}.{j}.a", parent=deepest)
    doc.add_heading("After firing", level=1)
    doc.add_text(label=DocItemLabel.TEXT, text="Let it cool.")
    return doc


ALL = (control_characters, long_headings, rtl_and_tables, nested_lists)
