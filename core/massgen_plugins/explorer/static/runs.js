// The Runs page: every run found, filtered in the browser, kept current by server-sent events.
"use strict";
(function () {
  MG.nav("runs");
  let data = {runs: [], total: 0, dirs: []};
  const body = document.querySelector("#runs tbody");
  const filter = document.getElementById("filter"), status = document.getElementById("status"), source = document.getElementById("source");
  filter.value = new URLSearchParams(location.search).get("q") || "";

  function row(r) {
    const href = "/runs/" + encodeURIComponent(r.id);
    const title = r.title ? `<div class="muted small">${MG.esc(r.title)}</div>` : "";
    const live = r.live ? '<span class="live-dot" title="being written"></span>' : "";
    return `<tr class="run" data-id="${MG.esc(r.id)}" onclick="location.href='${MG.esc(href)}'">` +
      `<td class="id">${live}<a href="${MG.esc(href)}">${MG.esc(r.id)}</a>${title}</td>` +
      `<td>${MG.badge(r.status, r.status_detail)}<div class="muted small">${MG.esc(r.source === "massgen" ? "MassGen" : "")}</div></td>` +
      `<td>${MG.esc((r.started_at || "").replace("T", " ").slice(0, 19))}</td>` +
      `<td>${MG.esc(r.agents.join(", "))}</td><td class="n">${MG.dur(r.duration_ms)}</td>` +
      `<td class="n">${r.calls}</td><td class="n">${r.failed_calls || ""}</td>` +
      `<td class="n">${r.compressions || ""}${r.tokens_saved ? ` <span class="muted small">−${MG.short(r.tokens_saved)}</span>` : ""}</td>` +
      `<td class="n">${r.fallbacks || ""}</td><td class="n">${MG.money(r.cost_usd, r.cost_complete)}</td></tr>`;
  }

  function render() {
    const q = filter.value.trim().toLowerCase();
    const shown = data.runs.filter((r) => (!status.value || r.status === status.value) && (!source.value || r.source === source.value) &&
      (!q || [r.id, r.title || "", r.status, r.source, ...r.agents, ...r.models].join(" ").toLowerCase().includes(q)));
    body.innerHTML = shown.map(row).join("") || `<tr><td colspan="10" class="muted">No runs${data.total ? " match the filter" : " yet"}.</td></tr>`;
    document.getElementById("where").textContent =
      `${shown.length} of ${data.total} run(s) in ${data.dirs.join(", ")}`;
  }

  [filter, status, source].forEach((el) => el.addEventListener("input", render));
  MG.api("/api/runs").then((d) => { data = d; render(); }).catch((e) => MG.fail(document.getElementById("where"), e));
  const stream = new EventSource("/api/runs?follow=1");
  stream.addEventListener("runs", (ev) => { data = JSON.parse(ev.data); render(); });
  stream.addEventListener("changes", (ev) => {  // only the runs that started, grew or ended
    const delta = JSON.parse(ev.data), byId = new Map(data.runs.map((r) => [r.id, r]));
    delta.changed.forEach((r) => byId.set(r.id, r));
    delta.removed.forEach((id) => byId.delete(id));
    data.runs = [...byId.values()].sort((a, b) => (b.started_at || "").localeCompare(a.started_at || "") || b.id.localeCompare(a.id));
    data.total = delta.total;
    render();
  });
  stream.onopen = () => { document.getElementById("live-state").textContent = "live"; };
  stream.onerror = () => { document.getElementById("live-state").textContent = "reconnecting…"; };
})();
