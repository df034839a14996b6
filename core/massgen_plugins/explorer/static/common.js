// Shared helpers for the explorer pages (plain JS, no build step).
"use strict";
const MG = {};
MG.esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
MG.num = (v) => (v === null || v === undefined) ? "–" : Number(v).toLocaleString("en-US", {maximumFractionDigits: 1});
MG.short = (n) => n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e4 ? Math.round(n / 1e3) + "k" : n >= 1e3 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n));
MG.money = (v, complete) => v === null || v === undefined ? "unknown" : "$" + (v !== 0 && Math.abs(v) < 0.0001 ? v.toPrecision(2) : v.toFixed(4)) + (complete === false ? "+" : "");
MG.dur = (ms) => ms === null || ms === undefined ? "–" : ms < 1000 ? Math.round(ms) + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
MG.badge = (status, detail) => `<span class="badge ${MG.esc(status)}" title="${MG.esc(detail || "")}">${MG.esc(status)}</span>`;
MG.api = async (path) => {
  const r = await fetch(path, {headers: {"Accept": "application/json"}});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || `${r.status} ${r.statusText}`);
  return body;
};
MG.svg = (tag, attrs, inner) => `<${tag} ${Object.entries(attrs).map(([k, v]) => `${k}="${MG.esc(v)}"`).join(" ")}>${inner || ""}</${tag}>`;
MG.ticks = (max, count) => {
  if (!(max > 0)) return [0];
  const raw = max / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
};
MG.nav = (here) => {
  const el = document.getElementById("nav");
  if (el) el.innerHTML = `<b>massgen-plugins explorer</b><a href="/" class="${here === "runs" ? "here" : ""}">Runs</a>` +
    `<a href="/memory" class="${here === "memory" ? "here" : ""}">Memory</a><span class="muted small" id="live-state"></span>`;
};
MG.fail = (el, err) => { el.innerHTML = `<p class="error-box">${MG.esc(err.message || err)}</p>`; };
MG.message = (m, opts) => {
  opts = opts || {};
  const calls = m.tool_calls && m.tool_calls.length ? ` <span class="muted">calls ${MG.esc(m.tool_calls.join(", "))}</span>` : "";
  const link = opts.link ? ` <a href="${MG.esc(opts.link)}">archived original</a>` : "";
  const stage = m.stage ? ` <span class="muted">${MG.esc(m.stage)}${m.replaced_by ? " → " + MG.esc(m.replaced_by) : ""}</span>` : "";
  return `<div class="msg" id="${MG.esc(opts.anchor ? m.id : "")}"><span class="role">${MG.esc(m.role)}</span><span class="mid">${MG.esc(m.id)}</span>${stage}${calls}${link}` +
    `<pre ondblclick="this.classList.toggle('open')">${MG.esc(m.text || "")}</pre></div>`;
};
