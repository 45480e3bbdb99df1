"""The readable view of ``ceramic-pipeline stream show`` (a terminal, or ``--format text``).

It adds to the JSON state what a person looks for: the history of versions (each event's CID,
kind and outbox time) and the pins, both from the database when it is reachable (never
started for this). Values are shown as plain text (no console markup, control characters
escaped), long texts shortened.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ceramic_pipeline.commands import database_lookup, read_stream
from ceramic_pipeline.settings import Settings
from ceramic_pipeline.storage import outbox, streams

SHOWN_CHARACTERS = 300  # longer text values are cut here; the JSON view has them whole
NO_TIME = "-"


@dataclass(frozen=True)
class Version:
    number: int  # 1 is the init event
    cid: str
    kind: str  # init | data
    time: str  # the outbox's published_at, else created_at (UTC), else NO_TIME
    status: str  # the outbox status, or NO_TIME when the event is not in the database


@dataclass(frozen=True)
class StreamView:
    shown: dict[str, Any]  # show_stream's state (the JSON view)
    history: list[Version]
    pins: list[dict[str, Any]] | None  # the row's ipfs_pins; None without a database row
    note: str  # why the pins are unknown, "" when the database has the stream's row


def stream_view(settings: Settings, stream_id: str) -> StreamView:
    """The stream read back from the node (errors as ``commands.read_stream``), plus the database's view."""
    shown, back = read_stream(settings, stream_id)
    cids = [str(event.cid) for event in back.events]

    def lookup(conn):
        return streams.get_stream(conn, stream_id), outbox.event_times(conn, cids)

    found, note = database_lookup(settings, lookup)
    row, times = found if found is not None else (None, {})
    if found is not None and row is None:
        note = "the database has no row for this stream"
    history = []
    for number, (cid, event) in enumerate(zip(cids, back.events), start=1):
        at = times.get(cid)
        when = (at.published_at or at.created_at) if at is not None else None
        history.append(Version(number, cid, event.kind, when.astimezone(timezone.utc).isoformat(timespec="seconds") if when else NO_TIME,
                               at.status if at is not None else NO_TIME))
    return StreamView(shown, history, row.ipfs_pins if row is not None else None, note)


def render(view: StreamView, console: Console) -> None:
    """Three tables on ``console``: the stream, its content fields, its versions; then its pins."""
    shown = view.shown
    about = Table(show_header=False, box=None, pad_edge=False)
    about.add_column(style="bold", no_wrap=True)
    about.add_column(overflow="fold")
    for label, value in (("stream", shown["stream_id"]), ("controller", shown["controller"]), ("model", shown["model"]),
                         ("version", str(shown["version"])), ("tip", shown["tip"])):
        about.add_row(label, _plain(value))
    console.print(about)

    content = Table(title="content", title_justify="left", show_lines=False)
    content.add_column("field", no_wrap=True)
    content.add_column("value", overflow="fold")
    fields = dict(shown["content"] or {})
    if shown.get("text") is not None and "text" not in fields:
        fields["text (from IPFS)"] = shown["text"]
    for name, value in fields.items():
        content.add_row(_plain(name), _plain(_shortened(value)))
    console.print(content)

    history = Table(title="versions", title_justify="left")
    for column in ("#", "event CID", "kind", "time (UTC)", "outbox"):
        history.add_column(column, no_wrap=column != "event CID", overflow="fold")
    for version in view.history:
        history.add_row(str(version.number), version.cid, version.kind, version.time, version.status)
    console.print(history)

    if view.pins:
        pins = Table(title="pins", title_justify="left")
        for column in ("CID", "service", "status", "bytes", "pinned at"):
            pins.add_column(column, overflow="fold")
        for pin in view.pins:
            pins.add_row(*(_plain(str(pin.get(k, NO_TIME))) for k in ("cid", "service", "status", "size", "pinned_at")))
        console.print(pins)
    elif view.pins is not None:
        console.print(Text("pins: none"))
    else:
        console.print(Text(f"pins: unknown ({view.note})"))


def _shortened(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS]}… ({len(text):,} characters)"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(value: Any) -> Text:
    """Plain text: no console markup, control characters (terminal escapes, U+0000) shown as \\xNN."""
    return Text(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", "" if value is None else str(value)))
