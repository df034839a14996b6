// The run page: header, zoomable timeline, tokens against windows, compressions with their diffs,
// retries, fallbacks, findings and cost; live while the run is being written.
"use strict";
(function () {
  MG.nav("runs");
  const runId = decodeURIComponent(location.pathname.replace(/^\/runs\//, ""));
  const base = "/api/runs/" + encodeURIComponent(runId);
  let run = null, view = null, zoomed = false, colours = {}, openDiffs = new Set();

  function table(headers, rows, numeric) {
    if (!rows.length) return '<p class="muted">None.</p>';
    return `<table><thead><tr>${headers.map((h, i) => `<th class="${numeric.includes(i) ? "n" : ""}">${MG.esc(h)}</th>`).join("")}</tr></thead><tbody>` +
      rows.map((r) => `<tr>${r.map((c, i) => `<td class="${numeric.includes(i) ? "n" : ""}">${c}</td>`).join("")}</tr>`).join("") + "</tbody></table>";
  }

  function header() {
    const r = run.run, s = run.summary;
    document.title = `${r.id} · massgen-plugins explorer`;
    document.getElementById("title").innerHTML = `${r.live ? '<span class="live-dot" title="being written"></span>' : ""}Run ${MG.esc(r.id)} ${MG.badge(r.status, r.status_detail)}`;
    document.getElementById("subtitle").textContent = [r.title, r.source === "massgen" ? "MassGen log" : "massgen-plugins run",
      r.started_at ? "started " + r.started_at : "", r.status_detail, r.path].filter(Boolean).join(" · ");
    const cards = [["duration", MG.dur(r.duration_ms)], ["events", r.events], ["calls", r.calls], ["failed calls", r.failed_calls],
      ["input tokens", MG.num(s.tokens.input)], ["output tokens", MG.num(s.tokens.output)], ["overflows", r.overflows],
      ["compressions", r.compressions], ["tokens saved", MG.short(r.tokens_saved)], ["retries", r.retries],
      ["fallbacks", r.fallbacks], ["cost", MG.money(r.cost_usd, r.cost_complete)]];
    document.getElementById("cards").innerHTML = cards.map(([k, v]) => `<div class="card"><b>${MG.esc(v)}</b><span>${MG.esc(k)}</span></div>`).join("");
  }

  function charts() {
    drawTimeline(document.getElementById("timeline"), run, view, colours);
    drawTokens(document.getElementById("tokens"), run, view, colours);
  }

  function compressions() {
    const el = document.getElementById("compressions");
    if (!run.compressions.length) { el.innerHTML = '<p class="muted">No compressions.</p>'; return; }
    el.innerHTML = table(["#", "t", "agent", "stage", "before → after", "archived", "tried", "diff"], run.compressions.map((c) => [
      c.seq, (c.t_ms / 1000).toFixed(2) + "s", MG.esc(c.agent || ""),
      MG.esc(c.stage) + (c.fits ? "" : ' <span class="sev error">did not fit</span>'),
      `${MG.num(c.tokens_before)} → ${MG.num(c.tokens_after)} <span class="muted">(−${c.tokens_before ? Math.round(100 * (c.tokens_before - c.tokens_after) / c.tokens_before) : 0}%)</span>`,
      c.archived, MG.esc(c.stages_tried.join(" → ")) + (c.skipped.length ? `<div class="muted small">${c.skipped.map((k) => MG.esc(k.stage + ": " + k.reason)).join("<br>")}</div>` : ""),
      `<button class="show-diff" data-seq="${c.seq}">${openDiffs.has(c.seq) ? "hide" : "show"} diff</button>`]), [0, 5]) +
      run.compressions.filter((c) => openDiffs.has(c.seq)).map((c) => `<div class="diff" id="compression-${c.seq}">Loading diff #${c.seq}…</div>`).join("");
    el.querySelectorAll("button.show-diff").forEach((b) => b.addEventListener("click", () => {
      const seq = +b.dataset.seq;
      openDiffs.has(seq) ? openDiffs.delete(seq) : openDiffs.add(seq);
      compressions();
    }));
    openDiffs.forEach(loadDiff);
  }

  async function loadDiff(seq) {
    const el = document.getElementById("compression-" + seq);
    if (!el) return;
    try {
      const d = await MG.api(`${base}/compressions/${seq}`);
      const link = (m) => d.session_id ? `/memory?store=${encodeURIComponent(d.store)}&session=${encodeURIComponent(d.session_id)}#${encodeURIComponent(m.id)}` : "";
      const counts = Object.entries(d.counts).map(([k, n]) => `${n} ${k}`).join(", ");
      el.innerHTML = `<div class="diff-head"><b>#${d.seq} ${MG.esc(d.stage)}</b>: ${MG.num(d.tokens_before)} → ${MG.num(d.tokens_after)} tokens` +
        `${d.session_id ? ` · session <a href="/memory?store=${encodeURIComponent(d.store)}&session=${encodeURIComponent(d.session_id)}">${MG.esc(d.session_id)}</a>` : ""}` +
        `${counts ? " · " + MG.esc(counts) : ""}${d.note ? `<div class="muted small">${MG.esc(d.note)}</div>` : ""}</div>` +
        '<div class="diff-row"><div class="diff-kind">what</div><div><b>before</b> (archived originals)</div><div><b>after</b> (in the conversation)</div></div>' +
        d.rows.map((r) => `<div class="diff-row ${MG.esc(r.kind)}"><div class="diff-kind">${MG.esc(r.kind)}</div>` +
          `<div class="before">${r.before.map((m) => MG.message(m, {link: r.kind === "kept" ? "" : link(m)})).join("")}</div>` +
          `<div class="after">${r.after ? MG.message(r.after) : '<span class="muted">(nothing: dropped)</span>'}</div></div>`).join("");
    } catch (e) { MG.fail(el, e); }
  }

  function tables() {
    document.getElementById("retries").innerHTML = table(["#", "agent", "model", "attempt", "why", "wait"], run.retries.map((r) => [
      r.seq, MG.esc(r.agent || ""), MG.esc(r.model), r.attempt, `<b>${MG.esc(r.kind)}</b>${r.status ? " " + r.status : ""}` +
      (r.reason ? `<div class="muted small">${MG.esc(r.reason)}</div>` : ""), (+r.delay_s).toFixed(2) + " s"]), [0, 3, 5]);
    document.getElementById("fallbacks").innerHTML = table(["#", "agent", "from → to", "why"], run.fallbacks.map((f) => [
      f.seq, MG.esc(f.agent || ""), `${MG.esc(f.from)} → <b>${MG.esc(f.to)}</b>`,
      `<b>${MG.esc(f.why)}</b>${f.detail ? `<div class="muted small">${MG.esc(f.detail)}</div>` : ""}`]), [0]);
    document.getElementById("findings").innerHTML = run.findings.map((f) => `<li><span class="sev ${MG.esc(f.severity)}">${MG.esc(f.severity)}</span>` +
      `<b>${MG.esc(f.title)}</b>${f.detail ? " — " + MG.esc(f.detail) : ""}</li>`).join("") || '<li class="muted">No findings.</li>';
    const cost = (obj) => table(["", "calls", "failed", "input", "output", "cost"], Object.entries(obj).map(([k, b]) => [
      MG.esc(k), b.calls, b.failed, MG.num(b.input_tokens), MG.num(b.output_tokens), MG.money(b.cost_usd, !b.unpriced_calls)]), [1, 2, 3, 4, 5]);
    document.getElementById("cost-model").innerHTML = cost(run.cost_by_model);
    document.getElementById("cost-agent").innerHTML = cost(run.cost_by_agent);
  }

  function events() {
    const rows = run.marks.map((m) => ({seq: m.seq, t: m.t_ms, agent: m.agent, type: m.type, text: m.label}))
      .concat(run.calls.map((c) => ({seq: c.seq, t: c.t_ms, agent: c.agent, type: c.outcome === "ok" ? "call" : "call failed", text: callTip(c)})))
      .sort((a, b) => a.seq - b.seq);
    const q = document.getElementById("events-filter").value.trim().toLowerCase();
    const shown = rows.filter((r) => !q || `${r.type} ${r.agent || ""} ${r.text}`.toLowerCase().includes(q));
    document.getElementById("events-summary").textContent = `${shown.length} of ${run.run.events} events (decisions and calls)`;
    if (!document.getElementById("events-box").open) return;
    const last = shown.slice(-2000);
    document.getElementById("events").innerHTML = table(["#", "t", "agent", "type", "what"], last.map((r) => [
      r.seq, (r.t / 1000).toFixed(2) + "s", MG.esc(r.agent || ""), MG.esc(r.type), MG.esc(r.text.replace(/^#\d+ /, ""))]), [0, 1]);
  }
  document.getElementById("events-filter").addEventListener("input", events);
  document.getElementById("events-box").addEventListener("toggle", events);

  function render() {
    Object.keys(run.windows).concat(run.calls.map((c) => c.model)).forEach((m) => {
      if (!(m in colours)) colours[m] = PALETTE[Object.keys(colours).length % PALETTE.length];
    });
    if (!zoomed) view = [0, Math.max(1, run.end_ms) * 1.02];
    header(); charts(); compressions(); tables(); events();
  }

  async function load() {
    run = await MG.api(base);
    render();
    const hash = location.hash.match(/^#compression-(\d+)$/);
    if (hash && !openDiffs.has(+hash[1])) { openDiffs.add(+hash[1]); compressions(); }
  }

  // zoom: wheel at the cursor, drag to pan, buttons
  const tl = document.getElementById("timeline");
  function zoom(factor, at) {
    const [t0, t1] = view, full = Math.max(1, run.end_ms) * 1.02;
    const width = Math.min(full, Math.max(5, (t1 - t0) * factor));
    const centre = at ?? (t0 + t1) / 2, ratio = (centre - t0) / (t1 - t0 || 1);
    let n0 = centre - width * ratio;
    n0 = Math.max(0, Math.min(full - width, n0));
    view = [n0, n0 + width];
    zoomed = width < full;
    charts();
  }
  function timeAt(ev) {
    const svg = document.getElementById("timeline-svg");
    const box = svg.getBoundingClientRect(), px = (ev.clientX - box.left) * WIDTH / box.width;
    return view[0] + (px - LEFT) / (WIDTH - LEFT - 16) * (view[1] - view[0]);
  }
  tl.addEventListener("wheel", (ev) => { ev.preventDefault(); zoom(ev.deltaY < 0 ? 0.8 : 1.25, timeAt(ev)); }, {passive: false});
  let drag = null;
  tl.addEventListener("mousedown", (ev) => { drag = {x: ev.clientX, view: view.slice()}; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const box = document.getElementById("timeline-svg").getBoundingClientRect();
    const dt = (drag.x - ev.clientX) / box.width * WIDTH / (WIDTH - LEFT - 16) * (drag.view[1] - drag.view[0]);
    const full = Math.max(1, run.end_ms) * 1.02, w = drag.view[1] - drag.view[0];
    const n0 = Math.max(0, Math.min(full - w, drag.view[0] + dt));
    view = [n0, n0 + w]; charts();
  });
  document.getElementById("zoom-in").onclick = () => zoom(0.5);
  document.getElementById("zoom-out").onclick = () => zoom(2);
  document.getElementById("zoom-reset").onclick = () => { zoomed = false; view = [0, Math.max(1, run.end_ms) * 1.02]; charts(); };

  // live: new events arrive as server-sent events; the page re-reads the run at most every 0.5 s
  let pending = null;
  function follow() {
    const stream = new EventSource(`${base}/events?follow=1&after=${run.next_seq - 1}`);
    const state = document.getElementById("live-state");
    stream.addEventListener("events", () => {
      if (pending) return;
      pending = setTimeout(() => { pending = null; load().catch(() => {}); }, 300);
    });
    stream.onopen = () => { state.textContent = "live"; };
    stream.onerror = () => { state.textContent = "reconnecting…"; };
  }
  load().then(follow).catch((e) => MG.fail(document.getElementById("title"), e));
})();
