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

__all__ = ["markdown_to_html", "render_html"]

PALETTE = ("#2563eb", "#059669", "#0891b2", "#db2777", "#65a30d", "#475569", "#a16207", "#4f46e5")
MARK = {"overflow": "#ea580c", "compression": "#7c3aed", "retry": "#d97706", "fallback": "#0284c7",
        "error": "#dc2626", "memory": "#64748b"}
W = 1100  # chart width in px


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
            cx, cy = x(t), y + (lane - 6) / 2
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


def _tokens_chart(events: list[dict[str, Any]]) -> str:
    calls = [e for e in events if e.get("type") == "call_end"]
    if not calls:
        return '<p class="muted">No calls recorded.</p>'
    comps = [e for e in events if e.get("type") == "compression"]
    limits = [int(e["limit"]) for e in events if e.get("type") == "overflow" and isinstance(e.get("limit"), int)]
    end_ms = max(float(e.get("elapsed_ms") or 0) for e in events) or 1.0
    peak = max(int((e.get("usage") or {}).get("input_tokens") or 0) + int((e.get("usage") or {}).get("output_tokens") or 0)
               for e in calls)
    peak = max([peak, *[int(e.get("tokens_before") or 0) for e in comps], *(limits[:1] if limits else [])] or [1]) or 1
    left, top, h = 70, 16, 240
    height = top + h + 40
    span = W - left - 20
    bar = max(3.0, min(14.0, span / max(1, len(calls)) * 0.6))

    def x(ms: float) -> float:
        return left + span * max(0.0, ms) / end_ms

    def y(tokens: float) -> float:
        return top + h - h * tokens / peak

    parts = [f'<svg class="chart" id="tokens" viewBox="0 0 {W} {height}" width="{W}" height="{height}" role="img" '
             f'aria-label="tokens per call">']
    for tick in _ticks(peak, 5):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{W - 20}" y2="{y(tick):.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">{_short(tick)}</text>')
    for tick in _ticks(end_ms / 1000.0):
        parts.append(f'<text x="{x(tick * 1000):.1f}" y="{height - 16}" text-anchor="middle" class="tick">{tick:g}s</text>')
    if limits:
        ly = y(max(limits))
        parts.append(f'<line x1="{left}" y1="{ly:.1f}" x2="{W - 20}" y2="{ly:.1f}" stroke="#dc2626" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{W - 24}" y="{ly - 5:.1f}" text-anchor="end" class="tick" fill="#dc2626">window {max(limits):,}</text>')
    for e in comps:
        cx = x(float(e.get("elapsed_ms") or 0))
        saved = int(e.get("tokens_before") or 0) - int(e.get("tokens_after") or 0)
        parts.append(f'<line x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{top + h}" stroke="{MARK["compression"]}" '
                     f'stroke-dasharray="4 3"><title>{_e(_tooltip(e))}</title></line>')
        parts.append(f'<text x="{cx + 3:.1f}" y="{top + 10}" class="tick" fill="{MARK["compression"]}">−{_short(saved)}</text>')
    for e in calls:
        usage = e.get("usage") or {}
        tin, tout = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
        cx = x(float(e.get("elapsed_ms") or 0)) - bar / 2
        tip = _e(_tooltip(e))
        bad = e.get("outcome", "ok") != "ok"
        parts.append(f'<rect class="tok-in" x="{cx:.1f}" y="{y(tin):.1f}" width="{bar:.1f}" height="{max(0.0, top + h - y(tin)):.1f}" '
                     f'fill="{"#fca5a5" if bad else "#3b82f6"}"><title>{tip}</title></rect>')
        parts.append(f'<rect class="tok-out" x="{cx:.1f}" y="{y(tin + tout):.1f}" width="{bar:.1f}" '
                     f'height="{max(0.0, y(tin) - y(tin + tout)):.1f}" fill="#10b981"><title>{tip}</title></rect>')
    parts.append(f'<line x1="{left}" y1="{top + h}" x2="{W - 20}" y2="{top + h}" stroke="#94a3b8"/>')
    parts.append("</svg>")
    legend = ('<div class="legend"><span class="key"><i style="background:#3b82f6"></i>input tokens</span>'
              '<span class="key"><i style="background:#10b981"></i>output tokens</span>'
              '<span class="key"><i style="background:#fca5a5"></i>failed call</span>'
              f'<span class="key"><i style="background:{MARK["compression"]}"></i>compression (tokens saved)</span></div>')
    return "".join(parts) + legend


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
.incomplete,.interrupted,.running{background:#d97706}
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
<h1>Run {_e(run.get('id'))}<span class="badge {_e(status)}">{_e(status)}</span></h1>
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
