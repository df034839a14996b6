// Inline-SVG charts of the run page: the zoomable per-agent timeline and tokens per call.
"use strict";
const PALETTE = ["#2563eb", "#059669", "#0891b2", "#db2777", "#65a30d", "#475569", "#a16207", "#4f46e5"];
const MARK = {overflow: "#ea580c", compression: "#7c3aed", retry: "#d97706", fallback: "#0284c7", error: "#dc2626",
  note: "#94a3b8", tool_call: "#0d9488", memory_read: "#64748b", memory_write: "#64748b", run_start: "#334155", run_end: "#334155"};
const WIDTH = 1180, LEFT = 130;

function markShape(type, cx, cy, colour) {
  const p = (pts) => pts.map(([x, y]) => `${(cx + x).toFixed(1)},${(cy + y).toFixed(1)}`).join(" ");
  switch (type) {
    case "overflow": return `<polygon points="${p([[0, -8], [-7, 6], [7, 6]])}" fill="${colour}"`;
    case "compression": return `<polygon points="${p([[0, -8], [7, 0], [0, 8], [-7, 0]])}" fill="${colour}"`;
    case "retry": return `<circle cx="${cx}" cy="${cy}" r="6" fill="none" stroke="${colour}" stroke-width="3"`;
    case "fallback": return `<polygon points="${p([[-7, -7], [8, 0], [-7, 7]])}" fill="${colour}"`;
    case "error": return `<path d="M${cx - 6},${cy - 6} L${cx + 6},${cy + 6} M${cx + 6},${cy - 6} L${cx - 6},${cy + 6}" stroke="${colour}" stroke-width="3"`;
    case "run_start": case "run_end": return `<rect x="${cx - 1}" y="${cy - 10}" width="2" height="20" fill="${colour}"`;
    default: return `<rect x="${cx - 3}" y="${cy + 7}" width="6" height="6" fill="${colour}"`;
  }
}

// The timeline: one lane per agent; calls as bars from start to end, decisions as markers.
// Markers closer than GAP pixels in a lane are moved right so none hides another.
function drawTimeline(el, run, view, colours) {
  const lanes = run.lanes, laneH = 36, top = 10, height = top + laneH * lanes.length + 30, span = WIDTH - LEFT - 16;
  const [t0, t1] = view;
  const x = (ms) => LEFT + span * (ms - t0) / Math.max(1e-6, t1 - t0);
  const laneOf = Object.fromEntries(lanes.map((a, i) => [a, i]));
  const out = [`<svg id="timeline-svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="timeline">`,
    `<defs><clipPath id="plot"><rect x="${LEFT}" y="0" width="${span}" height="${height}"/></clipPath></defs>`];
  lanes.forEach((a, i) => {
    out.push(`<rect x="${LEFT}" y="${top + i * laneH}" width="${span}" height="${laneH - 6}" fill="${i % 2 ? "#f8fafc" : "#f1f5f9"}"/>`);
    out.push(`<text x="${LEFT - 8}" y="${top + i * laneH + laneH / 2}" text-anchor="end" class="lbl">${MG.esc(a.slice(0, 18))}</text>`);
  });
  const tickStep = MG.ticks((t1 - t0) / 1000, 8);
  const step = tickStep.length > 1 ? tickStep[1] : 1;
  for (let s = Math.ceil(t0 / 1000 / step) * step; s <= t1 / 1000 + 1e-9; s += step) {
    const tx = x(s * 1000);
    out.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${height - 24}" class="grid"/><text x="${tx}" y="${height - 8}" text-anchor="middle" class="tick">${+s.toFixed(3)}s</text>`);
  }
  out.push('<g clip-path="url(#plot)">');
  for (const c of run.calls) {
    const lane = laneOf[c.agent || "run"];
    if (lane === undefined || c.t_ms < t0 || c.start_ms > t1) continue;
    const x0 = x(c.start_ms), x1 = x(c.t_ms), bad = c.outcome !== "ok";
    out.push(`<rect class="call ${MG.esc(c.outcome)}" x="${x0.toFixed(1)}" y="${top + lane * laneH + 5}" width="${Math.max(2, x1 - x0).toFixed(1)}" height="${laneH - 16}" rx="2" ` +
      `fill="${colours[c.model] || PALETTE[0]}" fill-opacity="${bad ? 0.4 : 0.85}"${bad ? ' stroke="#dc2626" stroke-width="2"' : ""}>` +
      `<title>${MG.esc(callTip(c))}</title></rect>`);
  }
  const last = {};
  for (const m of run.marks) {
    const lane = laneOf[m.agent || "run"];
    if (lane === undefined || m.t_ms < t0 || m.t_ms > t1) continue;
    const small = !["overflow", "compression", "retry", "fallback", "error", "run_start", "run_end"].includes(m.type);
    const slot = lane + (small ? ":s" : ":b"), gap = small ? 8 : 15;
    const cx = Math.max(x(m.t_ms), (last[slot] ?? -Infinity) + gap);
    last[slot] = cx;
    const shape = markShape(m.type, cx, top + lane * laneH + (laneH - 6) / 2, MARK[m.type] || "#64748b");
    const tag = shape.slice(1, shape.indexOf(" "));
    out.push(`${shape} class="mark ${MG.esc(m.type)}" data-seq="${m.seq}"><title>${MG.esc(m.label)}</title></${tag}>`);
  }
  out.push("</g></svg>");
  const legend = Object.entries(colours).map(([m, c]) => `<span class="key"><i style="background:${c}"></i>${MG.esc(m)}</span>`).join("") +
    ["overflow", "compression", "retry", "fallback", "error"].map((k) => `<span class="key"><i style="background:${MARK[k]}"></i>${k}</span>`).join("") +
    '<span class="key"><i style="background:#64748b"></i>memory, notes, tools</span>';
  el.innerHTML = out.join("") + `<div class="legend">${legend}</div>`;
}

function callTip(c) {
  const size = c.input || c.output ? `${c.input} in / ${c.output} out` : `requested ${c.requested ?? "?"} tokens`;
  return `#${c.seq} ${c.agent ? c.agent + " · " : ""}${c.model} attempt ${c.attempt} · ${c.outcome}` +
    `${c.error_kind && c.error_kind !== c.outcome ? " (" + c.error_kind + ")" : ""} · ${Math.round(c.latency_ms)} ms · ${size} · t=${(c.t_ms / 1000).toFixed(2)}s`;
}

// Tokens per call, one chart per model, against that model's window. A call that failed or
// overflowed has no usage: it is drawn hatched at the size it requested (above the window line
// when the window was the reason).
function drawTokens(el, run, view, colours) {
  const models = [...new Set(run.calls.map((c) => c.model))];
  if (!models.length) { el.innerHTML = '<p class="muted">No calls recorded.</p>'; return; }
  const [t0, t1] = view, H = 150, top = 18, span = WIDTH - LEFT - 16;
  const x = (ms) => LEFT + span * (ms - t0) / Math.max(1e-6, t1 - t0);
  el.innerHTML = models.map((model, mi) => {
    const calls = run.calls.filter((c) => c.model === model), largest = Math.max(1, ...calls.map((c) => c.size));
    // a window far above every call would flatten the bars: named instead of drawn
    const offScale = run.windows[model] > 4 * largest, window = offScale ? null : run.windows[model];
    const peak = Math.max(largest, window || 0) * 1.1;
    const y = (v) => top + H - H * v / peak;
    const out = [`<svg class="tokens-chart" data-model="${MG.esc(model)}" viewBox="0 0 ${WIDTH} ${top + H + 24}" width="100%" role="img" aria-label="tokens for ${MG.esc(model)}">`,
      `<defs><pattern id="hatch${mi}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fecaca"/><line x1="0" y1="0" x2="0" y2="6" stroke="#dc2626" stroke-width="2"/></pattern>` +
      `<clipPath id="tplot${mi}"><rect x="${LEFT}" y="0" width="${span}" height="${top + H + 2}"/></clipPath></defs>`,
      `<text x="${LEFT - 8}" y="12" text-anchor="end" class="lbl">${MG.esc(model.split("/").slice(1).join("/").slice(0, 18))}</text>`];
    for (const t of MG.ticks(peak, 4)) out.push(`<line x1="${LEFT}" y1="${y(t)}" x2="${WIDTH - 16}" y2="${y(t)}" class="grid"/><text x="${LEFT - 6}" y="${y(t) + 4}" text-anchor="end" class="tick">${MG.short(t)}</text>`);
    if (offScale) out.push(`<text x="${WIDTH - 20}" y="12" text-anchor="end" class="tick" fill="#dc2626">window ${MG.num(run.windows[model])} (off scale)</text>`);
    if (window) out.push(`<line class="window" x1="${LEFT}" y1="${y(window)}" x2="${WIDTH - 16}" y2="${y(window)}" stroke="#dc2626" stroke-dasharray="6 4"/>` +
      `<text x="${WIDTH - 20}" y="${y(window) - 4}" text-anchor="end" class="tick" fill="#dc2626">window ${MG.num(window)}</text>`);
    const visible = calls.filter((c) => c.t_ms >= t0 && c.t_ms <= t1);
    const bar = Math.max(3, Math.min(14, span / Math.max(1, visible.length) * 0.6));
    out.push(`<g clip-path="url(#tplot${mi})">`);
    for (const c of visible) {
      const cx = x(c.t_ms) - bar / 2, tip = `<title>${MG.esc(callTip(c))}</title>`;
      if (c.outcome !== "ok" && !(c.input || c.output)) {
        out.push(`<rect class="tok-failed ${MG.esc(c.outcome)}" x="${cx}" y="${y(c.size)}" width="${bar}" height="${Math.max(0, top + H - y(c.size))}" fill="url(#hatch${mi})" stroke="#dc2626">${tip}</rect>`);
      } else {
        out.push(`<rect class="tok-in" x="${cx}" y="${y(c.input)}" width="${bar}" height="${Math.max(0, top + H - y(c.input))}" fill="${colours[model]}">${tip}</rect>`);
        out.push(`<rect class="tok-out" x="${cx}" y="${y(c.input + c.output)}" width="${bar}" height="${Math.max(0, y(c.input) - y(c.input + c.output))}" fill="#10b981">${tip}</rect>`);
      }
    }
    for (const comp of run.compressions.filter((k) => k.model === model && k.t_ms >= t0 && k.t_ms <= t1)) {
      out.push(`<line x1="${x(comp.t_ms)}" y1="${top}" x2="${x(comp.t_ms)}" y2="${top + H}" stroke="${MARK.compression}" stroke-dasharray="4 3"><title>#${comp.seq} ${MG.esc(comp.stage)}: ${comp.tokens_before} → ${comp.tokens_after}</title></line>`);
    }
    out.push(`</g><line x1="${LEFT}" y1="${top + H}" x2="${WIDTH - 16}" y2="${top + H}" stroke="#94a3b8"/></svg>`);
    return `<div class="chart-box">${out.join("")}</div>`;
  }).join("") + '<div class="legend"><span class="key"><i style="background:#2563eb"></i>input tokens (model colour)</span>' +
    '<span class="key"><i style="background:#10b981"></i>output tokens</span><span class="key"><i style="background:#fecaca;border:1px solid #dc2626"></i>failed or overflowing call, at the size requested</span>' +
    '<span class="key"><i style="background:#dc2626"></i>window</span><span class="key"><i style="background:#7c3aed"></i>compression</span></div>';
}
