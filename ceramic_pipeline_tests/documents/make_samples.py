"""Build the sample inbox documents shipped in ceramic_pipeline/samples/documents/.

Run ``python -m ceramic_pipeline_tests.documents.make_samples`` and commit the output.
The documents are built with docling-core's own API, so they are exactly what
docling's ``save_as_json`` writes. ``test_samples`` checks the committed files
still equal this script's output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docling_core.types.doc import (
    BoundingBox,
    DocItemLabel,
    DoclingDocument,
    ProvenanceItem,
    Size,
    TableCell,
    TableData,
)

from ceramic_pipeline.samples import sample_documents_dir

A4 = Size(width=595.0, height=842.0)


def _prov(page: int, top: float, text: str) -> ProvenanceItem:
    """A plausible single-column text box on an A4 page."""
    lines = max(1, len(text) // 90 + 1)
    return ProvenanceItem(
        page_no=page,
        bbox=BoundingBox(l=56.0, t=top, r=539.0, b=top - 14.0 * lines),
        charspan=(0, len(text)),
    )


def _table(rows: list[list[str]]) -> TableData:
    data = TableData(num_rows=len(rows), num_cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            data.table_cells.append(
                TableCell(
                    text=text,
                    start_row_offset_idx=r,
                    end_row_offset_idx=r + 1,
                    start_col_offset_idx=c,
                    end_col_offset_idx=c + 1,
                    column_header=r == 0,
                )
            )
    return data


def glaze_firing_guide() -> DoclingDocument:
    """Three pages with provenance on every item: the page-number path."""
    doc = DoclingDocument(name="glaze-firing-guide")
    for page in (1, 2, 3):
        doc.add_page(page_no=page, size=A4)

    def text(page: int, top: float, body: str, parent=None):
        return doc.add_text(DocItemLabel.TEXT, body, prov=_prov(page, top, body), parent=parent)

    title = "Glaze Firing Guide — Stoneware at Cone 6"
    doc.add_title(title, prov=_prov(1, 800.0, title))
    doc.add_heading("1. Before the firing", level=1, prov=_prov(1, 760.0, "1. Before the firing"))
    text(
        1,
        740.0,
        "Wares must be bone dry: a piece that still feels cool against the cheek holds water "
        "that turns to steam above 100 °C and can crack the body. Bisque-fired pieces are glazed, "
        "wiped clean at the foot, and left to dry for at least twelve hours.",
    )
    checklist = doc.add_list_group(name="checklist")
    for item in (
        "Vacuum the kiln floor and the element grooves.",
        "Check shelves for glaze drips; grind and re-coat with kiln wash.",
        "Place witness cones 5, 6 and 7 where they are visible through the spy hole.",
    ):
        doc.add_list_item(item, parent=checklist, prov=_prov(1, 640.0, item))

    doc.add_heading("2. Firing schedule", level=1, prov=_prov(2, 800.0, "2. Firing schedule"))
    text(
        2,
        780.0,
        "The schedule below reaches cone 6 (≈ 1222 °C at 60 °C/h) with a slow final segment "
        "and a 10-minute hold so that the glaze can heal pinholes.",
    )
    doc.add_table(
        data=_table(
            [
                ["Segment", "Rate (°C/h)", "Target (°C)", "Hold (min)"],
                ["1", "80", "600", "0"],
                ["2", "200", "1100", "0"],
                ["3", "60", "1222", "10"],
                ["4 (cool)", "-150", "1000", "30"],
            ]
        ),
        prov=ProvenanceItem(page_no=2, bbox=BoundingBox(l=56.0, t=700.0, r=539.0, b=600.0), charspan=(0, 0)),
    )
    doc.add_heading("2.1 Reduction and raku", level=2, prov=_prov(2, 560.0, "2.1 Reduction and raku"))
    text(
        2,
        540.0,
        "Electric kilns fire in oxidation. Reduction effects such as copper reds need a gas kiln; "
        "raku (楽焼) pieces are pulled out glowing at about 950 °C and smoked in sawdust.",
    )

    doc.add_heading("3. Unloading", level=1, prov=_prov(3, 800.0, "3. Unloading"))
    steps = doc.add_list_group(name="unloading steps")
    for item in (
        "Wait until the pyrometer reads below 60 °C.",
        "Open the lid a crack for an hour before unloading.",
        "Record cone bends and any crazing in the kiln log.",
    ):
        doc.add_list_item(item, enumerated=True, parent=steps, prov=_prov(3, 760.0, item))
    return doc


def _inspection_entry(day: int) -> str:
    kilns = ("Brennofen Nord", "Kiln B (Skutt)", "Four à gaz Sud")
    findings = (
        "thermocouple reading within ±3 °C of the witness cones",
        "element 2 resistance 10.8 Ω, within the manufacturer's ±5 % tolerance",
        "door seal frayed at the lower hinge; replaced the ceramic-fibre rope",
        "slight crazing on test tiles glazed with Seladon Grün, recipe unchanged",
        "relay clicked twice at 1100 °C; contacts cleaned, no pitting found",
        "shelf posts re-coated with kiln wash (Al₂O₃ : kaolin 1 : 1)",
    )
    return (
        f"Day {day:03d}, {kilns[day % 3]}: inspected by Zoë Müller-Łukasiewicz; "
        f"{findings[day % len(findings)]}; peak {1180 + (day * 7) % 60} °C, "
        f"cool-down {9 + day % 4} h. "
    )


def kiln_maintenance_log() -> DoclingDocument:
    """Holds one paragraph larger than 16 KiB, so its chunk takes the IPFS pinning path."""
    doc = DoclingDocument(name="kiln-maintenance-log")
    doc.add_title("Kiln Maintenance Log 2026")
    doc.add_heading("Summary", level=1)
    doc.add_text(
        DocItemLabel.TEXT,
        "Three kilns were inspected weekly. Two elements and one door seal were "
        "replaced; no firing was lost. Costs are listed below in euros (€).",
    )
    doc.add_table(
        data=_table(
            [
                ["Part", "Kiln", "Date", "Cost (€)"],
                ["Element 2", "Kiln B (Skutt)", "2026-03-14", "142.50"],
                ["Door seal", "Brennofen Nord", "2026-06-02", "38.90"],
                ["Element 1", "Kiln B (Skutt)", "2026-09-21", "142.50"],
            ]
        )
    )
    doc.add_heading("Appendix A: Full inspection transcript", level=1)
    # One long paragraph on purpose: transcripts arrive unsplit, and the pipeline
    # must pin such a chunk instead of inlining it in the Ceramic stream.
    transcript = "".join(_inspection_entry(day) for day in range(1, 131)).strip()
    doc.add_text(DocItemLabel.TEXT, transcript)
    return doc


def studio_safety_notes() -> DoclingDocument:
    """Multilingual, no provenance: chunks with empty page lists."""
    doc = DoclingDocument(name="studio-safety-notes")
    doc.add_title("Studio Safety Notes / Sicherheitshinweise / Consignes de sécurité")
    doc.add_heading("Dust and silica", level=1)
    doc.add_text(
        DocItemLabel.TEXT,
        "Dry clay dust contains crystalline silica. Wet-mop the floor, never sweep "
        "it, and wear an FFP3 mask when mixing dry glaze materials.",
    )
    doc.add_heading("Auf Deutsch", level=2)
    doc.add_text(
        DocItemLabel.TEXT,
        "Trockenen Tonstaub nicht fegen: Quarzfeinstaub gelangt in die Lunge. "
        "Böden feucht wischen und beim Anrühren von Glasuren eine FFP3-Maske tragen.",
    )
    doc.add_heading("En français", level=2)
    doc.add_text(
        DocItemLabel.TEXT,
        "Ne balayez jamais la poussière d'argile sèche ; nettoyez à l'éponge "
        "humide et portez un masque FFP3 lors du mélange des émaux.",
    )
    doc.add_heading("Kiln room", level=1)
    rules = doc.add_list_group(name="kiln room rules")
    for item in (
        "Keep the kiln room door closed while firing (fumes: SO₂, CO).",
        "Never touch the lid or spy-hole plugs above 200 °C without gloves.",
        "Κρατήστε τα εύφλεκτα υλικά μακριά από τον κλίβανο.",
        "窯の周りに可燃物を置かないこと。",
    ):
        doc.add_list_item(item, parent=rules)
    return doc


SAMPLES = {
    "glaze-firing-guide.json": glaze_firing_guide,
    "kiln-maintenance-log.json": kiln_maintenance_log,
    "studio-safety-notes.json": studio_safety_notes,
}


def write_samples(target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in SAMPLES.items():
        path = target / name
        build().save_as_json(path, ensure_ascii=False)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=sample_documents_dir())
    args = parser.parse_args(argv)
    for path in write_samples(args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
