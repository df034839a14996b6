"""A self-contained HTML report of one run: cards, a timeline, charts, findings, tables.

Everything is inline (CSS and SVG generated here, no script, no CDN, no web font), so the file
opens offline, from an e-mail attachment or a CI artifact. Charts:

* **timeline** -- one lane per agent; each call is a bar from its start to its end (coloured by
  model, red outline when it failed) with markers for overflows, compressions, retries,
  fallbacks and errors;
* **tokens per call over time** -- input and output tokens of every call, with compressions as
  dashed lines (tokens saved) and the window when it is known;
* **compressions** -- tokens before/after per compression, by stage;
* **retries by cause** and the list of fallbacks.

Every value is HTML-escaped; the data was already redacted by the reader.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from typing import Any

from ..formatting import money

__all__ = ["describe_event", "markdown_to_html", "render_html"]

PALETTE = ("#2563eb", "#059669", "#0891b2", "#db2777", "#65a30d", "#475569", "#a16207", "#4f46e5")
MARK = {"overflow": "#ea580c", "compression": "#7c3aed", "retry": "#d97706", "fallback": "#0284c7",
        "error": "#dc2626", "memory": "#64748b"}
W = 1100  # chart width in px
MARK_GAP = 15.0  # minimum distance between two timeline markers in one lane, px


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _ticks(maximum: float, count: int = 6) -> list[float]:
    """About ``count`` round tick values (1, 2, 2.5, 5 × 10^k steps) from 0 to ``maximum``."""
    if not maximum or maximum <= 0 or not math.isfinite(maximum):
        return [0.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [round(i * step, 10) for i in range(int(maximum / step + 1e-9) + 1)]


def _short(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.0f}k" if n >= 10_000 else f"{n / 1_000:.1f}k"
    return f"{n:g}"


# --------------------------------------------------------------------------- charts


def _timeline(events: list[dict[str, Any]], models: dict[str, str]) -> str:
    shown = ("call_end", "overflow", "compression", "retry", "fallback", "error", "memory_read", "memory_write")
    agents = sorted({str(e.get("agent") or "run") for e in events if e.get("type") in shown} or {"run"})
    end_ms = max((float(e.get("elapsed_ms") or 0) for e in events), default=0.0) or 1.0
    left, lane, top = 130, 34, 24
    height = top + lane * len(agents) + 36
    span = W - left - 20

    def x(ms: float) -> float:
        return left + span * max(0.0, ms) / end_ms

    parts = [f'<svg class="chart" id="timeline" viewBox="0 0 {W} {height}" width="{W}" height="{height}" role="img" '
             f'aria-label="timeline">']
    for i, agent in enumerate(agents):
        y = top + i * lane
        parts.append(f'<rect x="{left}" y="{y}" width="{span}" height="{lane - 6}" fill="{"#f8fafc" if i % 2 else "#f1f5f9"}"/>')
        parts.append(f'<text x="{left - 8}" y="{y + lane / 2}" text-anchor="end" class="lbl">{_e(agent[:18])}</text>')
    for tick in _ticks(end_ms / 1000.0):
        tx = x(tick * 1000)
        parts.append(f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{height - 30}" class="grid"/>')
        parts.append(f'<text x="{tx:.1f}" y="{height - 14}" text-anchor="middle" class="tick">{tick:g}s</text>')
    lane_of = {a: i for i, a in enumerate(agents)}
    last_mark: dict[tuple[int, bool], float] = {}  # markers closer than MARK_GAP px are dodged right
    for e in events:
        kind = e.get("type")
        agent = str(e.get("agent") or "run")
        if agent not in lane_of:
            continue
        y = top + lane_of[agent] * lane
        t = float(e.get("elapsed_ms") or 0)
        tip = _e(_tooltip(e))
        if kind == "call_end":
            lat = float(e.get("latency_ms") or 0)
            x0, x1 = x(t - lat), x(t)
            colour = models.get(str(e.get("model")), PALETTE[0])
            bad = e.get("outcome", "ok") != "ok"
            stroke = ' stroke="#dc2626" stroke-width="2"' if bad else ""
            parts.append(f'<rect class="call" x="{x0:.1f}" y="{y + 5}" width="{max(2.0, x1 - x0):.1f}" height="{lane - 16}" '
                         f'rx="2" fill="{colour}" fill-opacity="{0.45 if bad else 0.85}"{stroke}><title>{tip}</title></rect>')
        elif kind in ("overflow", "compression", "retry", "fallback", "error", "memory_read", "memory_write"):
            slot = (lane_of[agent], kind.startswith("memory"))  # memory squares sit below the others
            cx, cy = max(x(t), last_mark.get(slot, -math.inf) + (8.0 if slot[1] else MARK_GAP)), y + (lane - 6) / 2
            last_mark[slot] = cx
            key = "memory" if kind.startswith("memory") else kind
            c = MARK[key]
            shape = {
                "overflow": f'<polygon points="{cx:.1f},{cy - 8:.1f} {cx - 7:.1f},{cy + 6:.1f} {cx + 7:.1f},{cy + 6:.1f}" fill="{c}"',
                "compression": f'<polygon points="{cx:.1f},{cy - 8:.1f} {cx + 7:.1f},{cy:.1f} {cx:.1f},{cy + 8:.1f} {cx - 7:.1f},{cy:.1f}" fill="{c}"',
                "retry": f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="none" stroke="{c}" stroke-width="3"',
                "fallback": f'<polygon points="{cx - 7:.1f},{cy - 7:.1f} {cx + 8:.1f},{cy:.1f} {cx - 7:.1f},{cy + 7:.1f}" fill="{c}"',
                "error": f'<path d="M{cx - 6:.1f},{cy - 6:.1f} L{cx + 6:.1f},{cy + 6:.1f} M{cx + 6:.1f},{cy - 6:.1f} '
                         f'L{cx - 6:.1f},{cy + 6:.1f}" stroke="{c}" stroke-width="3"',
                "memory": f'<rect x="{cx - 3:.1f}" y="{cy + 6:.1f}" width="6" height="6" fill="{c}"',
            }[key]
            tag = shape.split(" ", 1)[0][1:]
            parts.append(f'{shape} class="mark {key}"><title>{tip}</title></{tag}>')
    parts.append("</svg>")
    legend = "".join(f'<span class="key"><i style="background:{c}"></i>{_e(m)}</span>' for m, c in models.items())
    legend += "".join(f'<span class="key"><i style="background:{MARK[k]}"></i>{k}</span>'
                      for k in ("overflow", "compression", "retry", "fallback", "error", "memory"))
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _place_labels(items: list[tuple[float, float]], rows: int) -> list[int | None]:
    """A row for each ``(x, width)`` label so that labels in one row never overlap (``None``:
    no room in any row; the element keeps its tooltip)."""
    ends = [-math.inf] * rows
    placed: list[int | None] = []
    for x0, width in items:
        row = next((r for r in range(rows) if x0 >= ends[r] + 4), None)
        if row is not None:
            ends[row] = x0 + width
        placed.append(row)
    return placed


def _tokens_chart(events: list[dict[str, Any]]) -> str:
    from .callpoints import call_points, model_windows

    calls = call_points(events)
    if not calls:
        return '<p class="muted">No calls recorded.</p>'
    comps = [e for e in events if e.get("type") == "compression"]
    windows = model_windows(events)
    end_ms = max(float(e.get("elapsed_ms") or 0) for e in events) or 1.0
    largest = max([int(c["size"]) for c in calls] + [int(e.get("tokens_before") or 0) for e in comps] + [1])
    # a window far above every call (a 128k model among 8k ones) would flatten the chart: named, not drawn
    off_scale = {m: w for m, w in windows.items() if w > 4 * largest}
    windows = {m: w for m, w in windows.items() if m not in off_scale}
    peak = max([largest, *windows.values()])
    peak = int(peak * 1.08)  # headroom for the window labels
    labels = 3  # rows of compression labels above the plot
    left, top, h = 70, 16 + 13 * labels, 240
    height = top + h + 40
    span = W - left - 20
    bar = max(3.0, min(14.0, span / max(1, len(calls)) * 0.6))

    def x(ms: float) -> float:
        return left + span * max(0.0, ms) / end_ms

    def y(tokens: float) -> float:
        return top + h - h * tokens / peak

    parts = [f'<svg class="chart" id="tokens" viewBox="0 0 {W} {height}" width="{W}" height="{height}" role="img" '
             f'aria-label="tokens per call">',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fecaca"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#dc2626" stroke-width="2"/></pattern></defs>']
    for tick in _ticks(peak, 5):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{W - 20}" y2="{y(tick):.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">{_short(tick)}</text>')
    for tick in _ticks(end_ms / 1000.0):
        parts.append(f'<text x="{x(tick * 1000):.1f}" y="{height - 16}" text-anchor="middle" class="tick">{tick:g}s</text>')
    by_window: dict[int, list[str]] = {}
    for model, window in windows.items():
        by_window.setdefault(window, []).append(model)
    for window, models in sorted(by_window.items()):
        ly = y(window)
        name = models[0].split("/", 1)[-1] + (f" +{len(models) - 1}" if len(models) > 1 else "")
        parts.append(f'<line class="window" x1="{left}" y1="{ly:.1f}" x2="{W - 20}" y2="{ly:.1f}" stroke="#dc2626" '
                     f'stroke-dasharray="6 4"><title>{_e(", ".join(models))}: window {window:,}</title></line>')
        parts.append(f'<text x="{W - 24}" y="{ly - 5:.1f}" text-anchor="end" class="tick" fill="#dc2626">'
                     f'window {window:,} ({_e(name)})</text>')
    positions = [(x(float(e.get("elapsed_ms") or 0)) + 3, 6.5 * (len(_short(_saved(e))) + 1)) for e in comps]
    rows = _place_labels(positions, labels)
    for e, (lx, _), row in zip(comps, positions, rows, strict=True):
        cx = lx - 3
        tip = _e(_tooltip(e))
        parts.append(f'<line x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{top + h}" stroke="{MARK["compression"]}" '
                     f'stroke-dasharray="4 3"><title>{tip}</title></line>')
        if row is not None:
            ty = 12 + 13 * row
            parts.append(f'<text class="comp-label" x="{lx:.1f}" y="{ty}" fill="{MARK["compression"]}" '
                         f'font-size="11">−{_short(_saved(e))}<title>{tip}</title></text>')
    for c in calls:
        cx = x(c["t_ms"]) - bar / 2
        tip = _e(_call_tip(c))
        if c["outcome"] != "ok" and not (c["input"] or c["output"]):
            size = int(c["size"])  # drawn at the size it asked for, above the window when it overflowed
            parts.append(f'<rect class="tok-failed {_e(c["outcome"])}" x="{cx:.1f}" y="{y(size):.1f}" width="{bar:.1f}" '
                         f'height="{max(0.0, top + h - y(size)):.1f}" fill="url(#hatch)" stroke="#dc2626" '
                         f'stroke-width="1"><title>{tip}</title></rect>')
            continue
        bad = c["outcome"] != "ok"
        tin, tout = c["input"], c["output"]
        parts.append(f'<rect class="tok-in" x="{cx:.1f}" y="{y(tin):.1f}" width="{bar:.1f}" height="{max(0.0, top + h - y(tin)):.1f}" '
                     f'fill="{"#fca5a5" if bad else "#3b82f6"}"><title>{tip}</title></rect>')
        parts.append(f'<rect class="tok-out" x="{cx:.1f}" y="{y(tin + tout):.1f}" width="{bar:.1f}" '
                     f'height="{max(0.0, y(tin) - y(tin + tout)):.1f}" fill="#10b981"><title>{tip}</title></rect>')
    parts.append(f'<line x1="{left}" y1="{top + h}" x2="{W - 20}" y2="{top + h}" stroke="#94a3b8"/>')
    parts.append("</svg>")
    legend = ('<div class="legend"><span class="key"><i style="background:#3b82f6"></i>input tokens</span>'
              '<span class="key"><i style="background:#10b981"></i>output tokens</span>'
              '<span class="key"><i style="background:#fecaca;border:1px solid #dc2626"></i>failed or overflowing call '
              '(size requested)</span>'
              '<span class="key"><i style="background:#dc2626"></i>window</span>'
              + "".join(f'<span class="key muted">{_e(m)}: window {w:,} (off scale)</span>' for m, w in off_scale.items())
              + f'<span class="key"><i style="background:{MARK["compression"]}"></i>compression (tokens saved)</span></div>')
    return "".join(parts) + legend


def _saved(e: dict[str, Any]) -> int:
    return max(0, int(e.get("tokens_before") or 0) - int(e.get("tokens_after") or 0))


def _call_tip(c: dict[str, Any]) -> str:
    size = (f"{c['input']} in / {c['output']} out" if c["input"] or c["output"]
            else f"requested {c['requested'] if c['requested'] is not None else '?'} tokens")
    return (f"#{c['seq']} {c['agent'] + ' · ' if c['agent'] else ''}{c['model']} attempt {c['attempt']} · "
            f"{c['outcome']}{' (' + str(c['error_kind']) + ')' if c['error_kind'] and c['error_kind'] != c['outcome'] else ''}"
            f" · {c['latency_ms']:.0f} ms · {size} · t={c['t_ms'] / 1000:.1f}s")


def _compression_chart(events: list[dict[str, Any]], width: int = 540) -> str:
    comps = [e for e in events if e.get("type") == "compression"]
    if not comps:
        return '<p class="muted">No compressions.</p>'
    peak = max(int(e.get("tokens_before") or 0) for e in comps) or 1
    left, row = 170, 26
    height = 10 + row * len(comps) + 10
    span = width - left - 130
    parts = [f'<svg class="chart" id="compressions" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="compressions">']
    for i, e in enumerate(comps):
        y = 10 + i * row
        before, after = int(e.get("tokens_before") or 0), int(e.get("tokens_after") or 0)
        label = f"#{e.get('seq')} {e.get('agent') or ''} {e.get('stage')}"
        tip = _e(_tooltip(e))
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="lbl">{_e(label.strip()[:24])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{span * before / peak:.1f}" height="18" fill="#ddd6fe"><title>{tip}</title></rect>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{span * after / peak:.1f}" height="18" fill="#7c3aed"><title>{tip}</title></rect>')
        pct = f" (−{100 * (before - after) / before:.0f}%)" if before else ""
        parts.append(f'<text x="{left + span * before / peak + 6:.1f}" y="{y + 16}" class="tick">{_short(before)} → {_short(after)}{pct}</text>')
    parts.append("</svg>")
    return "".join(parts) + ('<div class="legend"><span class="key"><i style="background:#ddd6fe"></i>before</span>'
                             '<span class="key"><i style="background:#7c3aed"></i>after</span></div>')


def _retry_chart(summary: dict[str, Any]) -> str:
    kinds = summary["retries"]["by_kind"]
    out = []
    if kinds:
        peak = max(kinds.values())
        row, left = 26, 160
        height = 10 + row * len(kinds) + 6
        parts = [f'<svg class="chart" id="retries" viewBox="0 0 {W // 2} {height}" width="{W // 2}" height="{height}">']
        for i, (kind, n) in enumerate(sorted(kinds.items(), key=lambda kv: -kv[1])):
            y = 10 + i * row
            width = (W // 2 - left - 60) * n / peak
            parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="lbl">{_e(kind)}</text>')
            parts.append(f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="18" fill="{MARK["retry"]}"/>')
            parts.append(f'<text x="{left + width + 6:.1f}" y="{y + 16}" class="tick">{n}</text>')
        parts.append("</svg>")
        out.append("".join(parts))
    else:
        out.append('<p class="muted">No retries.</p>')
    fbs = summary["fallbacks"]
    if fbs:
        out.append("<ul class='fallbacks'>" + "".join(
            f"<li><b>{_e(f['from'])}</b> → <b>{_e(f['to'])}</b> because of <code>{_e(f['why'])}</code>"
            + (f" ×{f['count']}" if f['count'] > 1 else "") + "</li>" for f in fbs) + "</ul>")
    else:
        out.append('<p class="muted">No fallbacks.</p>')
    return "".join(out)


def describe_event(e: dict[str, Any]) -> str:
    """One line saying what an event was (tooltips, the explorer, `logs tail`)."""
    return _tooltip(e)


def _tooltip(e: dict[str, Any]) -> str:
    t = float(e.get("elapsed_ms") or 0) / 1000
    kind = e.get("type")
    who = f"{e.get('agent')} · " if e.get("agent") else ""
    if kind == "call_end":
        u = e.get("usage") or {}
        return (f"#{e.get('seq')} {who}{e.get('model')} attempt {e.get('attempt', 1)} · {e.get('outcome', 'ok')} · "
                f"{float(e.get('latency_ms') or 0):.0f} ms · {u.get('input_tokens', 0)} in / {u.get('output_tokens', 0)} out · t={t:.1f}s")
    if kind == "compression":
        return (f"#{e.get('seq')} {who}compression {e.get('stage')}: {e.get('tokens_before')} → {e.get('tokens_after')} tokens"
                f" in {float(e.get('duration_ms') or 0):.0f} ms · t={t:.1f}s")
    if kind == "overflow":
        return f"#{e.get('seq')} {who}{e.get('mode')} overflow on {e.get('model')}: {e.get('requested') or e.get('counted')} > {e.get('limit')}"
    if kind == "retry":
        return f"#{e.get('seq')} {who}retry after {e.get('kind')} (attempt {e.get('attempt')}), wait {e.get('delay_s')} s"
    if kind == "fallback":
        return f"#{e.get('seq')} {who}fallback {e.get('from_model')} → {e.get('to_model')} ({e.get('why')})"
    if kind == "error":
        return f"#{e.get('seq')} {who}error {e.get('kind')}: {str(e.get('message'))[:200]}"
    if kind == "call_start":
        size = f" · {e.get('input_tokens')} tokens in" if e.get("input_tokens") is not None else ""
        return f"#{e.get('seq')} {who}call {e.get('model')} attempt {e.get('attempt', 1)}{size}"
    if kind == "note":
        return f"#{e.get('seq')} {who}{str(e.get('message'))[:200]}"
    if kind == "tool_call":
        took = f" in {float(e['duration_ms']):.0f} ms" if isinstance(e.get("duration_ms"), (int, float)) else ""
        return f"#{e.get('seq')} {who}tool {e.get('tool')} {e.get('outcome', 'ok')}{took}"
    if kind in ("memory_read", "memory_write"):
        what = (f"read {e.get('hits', 0)} hit(s)" + (f" for {e.get('query')!r}" if e.get("query") else "")
                if kind == "memory_read" else f"wrote {e.get('count', 1)} {e.get('kind', 'message')}")
        return f"#{e.get('seq')} {who}memory {e.get('scope', 'session')}: {what}"
    if kind == "run_start":
        return f"#{e.get('seq')} run {'resumed' if e.get('resumed') else 'started'}" + (
            f": {e.get('title')}" if e.get("title") else "")
    if kind == "run_end":
        return f"#{e.get('seq')} run ended {e.get('status', 'ok')}" + (f": {str(e.get('error'))[:200]}" if e.get("error") else "")
    return f"#{e.get('seq')} {who}{kind} t={t:.1f}s"


# --------------------------------------------------------------------------- markdown (small subset)


def markdown_to_html(text: str) -> str:
    """Headings, lists, tables (as preformatted), code spans/blocks, bold, italics, rules."""
    out: list[str] = []
    in_list = False
    in_code = False
    code: list[str] = []

    def inline(s: str) -> str:
        s = _e(s)
        s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", s)
        return re.sub(r"(?<![*\w])\*([^*\n]+)\*(?!\w)", r"<i>\1</i>", s)

    for line in text.splitlines():
        if line.strip().startswith("```"):
            if in_code:
                out.append("<pre>" + _e("\n".join(code)) + "</pre>")
                code, in_code = [], False
            else:
                in_code = True
            continue
        if in_code:
            code.append(line)
            continue
        stripped = line.strip()
        is_item = bool(re.match(r"^([-*]|\d+\.)\s+", stripped))
        if in_list and not is_item:
            out.append("</ul>")
            in_list = False
        if not stripped:
            continue
        heading = re.match(r"^(#{1,4})\s+(.*)$", stripped)
        if heading:
            level = min(4, len(heading.group(1)) + 2)
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif is_item:
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inline(re.sub(r'^([-*]|[0-9]+[.])[ ]+', '', stripped))}</li>")
        elif stripped.startswith("|"):
            out.append(f"<pre class='tbl'>{_e(stripped)}</pre>")
        elif stripped == "---":
            out.append("<hr/>")
        elif stripped.startswith(">"):
            out.append(f"<blockquote>{inline(stripped.lstrip('> '))}</blockquote>")
        else:
            out.append(f"<p>{inline(stripped)}</p>")
    if in_code:
        out.append("<pre>" + _e("\n".join(code)) + "</pre>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


# --------------------------------------------------------------------------- page

_CSS = """
body{font:14px/1.45 -apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;margin:0;color:#0f172a;background:#fff}
main{max-width:1140px;margin:0 auto;padding:20px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
.sub{color:#475569;margin:0 0 14px}.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-size:12px;
font-weight:600;vertical-align:middle;margin-left:8px}.ok{background:#16a34a}.failed{background:#dc2626}
.incomplete,.interrupted,.running,.recovered{background:#d97706}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:10px}
.card{border:1px solid #e2e8f0;border-radius:8px;padding:8px 12px;background:#f8fafc}
.card b{display:block;font-size:20px}.card span{color:#64748b;font-size:12px}
svg.chart{display:block;max-width:100%;height:auto;font-size:11px}.lbl{fill:#334155;font-size:12px}
.tick{fill:#64748b;font-size:11px}.grid{stroke:#e2e8f0}
.legend{margin:4px 0 0 0;color:#475569;font-size:12px}.key{margin-right:14px;white-space:nowrap}
.key i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px;vertical-align:middle}
.findings li{margin:3px 0}.sev{font-weight:700;text-transform:uppercase;font-size:11px;margin-right:6px}
.sev.error{color:#dc2626}.sev.warning{color:#d97706}.sev.info{color:#2563eb}.muted{color:#94a3b8}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e2e8f0;padding:4px 8px;text-align:left}
td.n,th.n{text-align:right}pre{background:#f8fafc;border:1px solid #e2e8f0;padding:8px;white-space:pre-wrap;font-size:12px}
pre.tbl{border:0;padding:0;margin:0;background:none}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:20px}
details summary{cursor:pointer;color:#2563eb}.report{border-left:3px solid #7c3aed;padding-left:14px}
"""


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int]) -> str:
    head = "".join(f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{"n" if i in numeric else ""}">{_e(c)}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(events: list[dict[str, Any]], summary: dict[str, Any], findings: list[dict[str, Any]],
                reports: list[tuple[str, str]] = ()) -> str:  # type: ignore[assignment]
    """The whole report page. ``reports`` are extra ``(title, markdown)`` sections
    (e.g. the LLM self-analysis)."""
    run = summary["run"]
    model_names = list(summary["calls"]["by_model"])
    models = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(model_names)}
    status = str(run.get("status") or "unknown")
    dur = run.get("duration_ms")
    cost = summary["cost"]["usd"]
    cards = [
        ("duration", f"{dur / 1000:.1f} s" if isinstance(dur, (int, float)) else "–"),
        (f"calls ({summary['calls']['failed']} failed)" if summary["calls"]["failed"] else "calls", f"{summary['calls']['total']}"),
        ("input tokens", _num(summary["tokens"]["input"])),
        ("output tokens", _num(summary["tokens"]["output"])),
        ("cost", money(cost) + ("" if cost is None or summary["cost"]["complete"] else "+")),
        ("overflows", f"{summary['overflows']['total']}"),
        (f"compressions (−{_short(summary['compressions']['tokens_saved'])} tokens)", f"{summary['compressions']['total']}"),
        ("retries", f"{summary['retries']['total']}"),
        ("fallbacks", f"{sum(f['count'] for f in summary['fallbacks'])}"),
        ("errors", f"{summary['errors']['total']}"),
    ]
    card_html = "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v in cards)
    find_html = "".join(
        f'<li><span class="sev {_e(f["severity"])}">{_e(f["severity"])}</span><b>{_e(f["title"])}</b>'
        + (f" — {_e(f['detail'])}" if f.get("detail") else "") + "</li>" for f in findings
    ) or '<li class="muted">No findings.</li>'
    lat = summary["latency_ms"]["by_model"]
    model_rows = [[m, b["calls"], b["failed"], _num(b["input_tokens"]), _num(b["output_tokens"]),
                   money(b["cost_usd"]),
                   _num(lat.get(m, {}).get("p50")), _num(lat.get(m, {}).get("p95"))]
                  for m, b in summary["calls"]["by_model"].items()]
    agent_rows = [[a, b["calls"], b["failed"], _num(b["input_tokens"]), _num(b["output_tokens"]),
                   money(b["cost_usd"])]
                  for a, b in summary["calls"]["by_agent"].items()]
    counts = Counter(str(e.get("type")) for e in events)
    event_rows = [[e.get("seq"), f"{float(e.get('elapsed_ms') or 0) / 1000:.2f}s", e.get("agent") or "", e.get("type"),
                   _tooltip(e).split(" ", 1)[-1][:160]] for e in events[:1000]]
    extra = "".join(f'<h2>{_e(title)}</h2><div class="report">{markdown_to_html(md)}</div>' for title, md in reports)
    title = run.get("title")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Run {_e(run.get('id'))} · massgen-plugins</title><style>{_CSS}</style></head>
<body><main>
<h1>Run {_e(run.get('id'))}<span class="badge {_e(status)}" title="{_e(run.get('status_detail') or '')}">{_e(status)}</span>
{f'<span class="sub"> {_e(run["status_detail"])}</span>' if run.get('status_detail') else ''}</h1>
<p class="sub">{_e(title) + ' · ' if title else ''}{_e(run.get('source'))} log · started {_e(run.get('started_at') or '–')} ·
agents: {_e(', '.join(run.get('agents') or []) or '–')} · {run.get('events')} events ({_e(', '.join(f'{k} {v}' for k, v in counts.most_common(6)))})</p>
<section class="cards">{card_html}</section>
<h2>Timeline</h2>{_timeline(events, models)}
<h2>Tokens per call over time</h2>{_tokens_chart(events)}
<div class="grid2"><div><h2>Compressions</h2>{_compression_chart(events)}</div>
<div><h2>Retries and fallbacks</h2>{_retry_chart(summary)}</div></div>
<h2>Findings</h2><ul class="findings">{find_html}</ul>
<h2>Per model</h2>{_table(['model', 'calls', 'failed', 'input', 'output', 'cost', 'p50 ms', 'p95 ms'], model_rows, {1, 2, 3, 4, 5, 6, 7})}
<h2>Per agent</h2>{_table(['agent', 'calls', 'failed', 'input', 'output', 'cost'], agent_rows, {1, 2, 3, 4, 5})}
{extra}
<h2>Events</h2><details><summary>show {min(len(events), 1000)} of {len(events)} events</summary>
{_table(['#', 't', 'agent', 'type', 'detail'], event_rows, {0})}</details>
<p class="muted">Generated by massgen-plugins · logs analyze · self-contained (no scripts, no network).</p>
</main></body></html>
"""
