// The Memory page: search long-term memories and compression archives by scope; open a session.
"use strict";
(function () {
  MG.nav("memory");
  const params = new URLSearchParams(location.search);
  const $ = (id) => document.getElementById(id);
  const scope = () => Object.fromEntries(["user", "agent", "team"].map((k) => [k, $(k).value.trim()]).filter(([, v]) => v));

  async function stores() {
    const list = await MG.api("/api/memory/stores");
    $("store").innerHTML = list.map((s) => `<option value="${MG.esc(s.key)}"${s.exists ? "" : " disabled"}>${MG.esc(s.label)}: ${MG.esc(s.url)}${s.exists ? "" : " (missing)"}</option>`).join("");
    const wanted = params.get("store");
    const first = list.find((s) => s.key === wanted) || list.find((s) => s.exists);
    if (first) $("store").value = first.key;
  }

  async function search(ev) {
    if (ev) ev.preventDefault();
    const include = [["memory", $("inc-memory").checked], ["archive", $("inc-archive").checked]].filter(([, on]) => on).map(([k]) => k);
    const q = new URLSearchParams({q: $("q").value, store: $("store").value, include: include.join(","), ...scope()});
    if ($("session").value.trim()) q.set("session", $("session").value.trim());
    const el = $("results");
    el.innerHTML = '<p class="muted">Searching…</p>';
    try {
      const r = await MG.api("/api/memory/search?" + q);
      el.innerHTML = r.hits.map((h) => `<div class="hit ${MG.esc(h.kind)}"><span class="kind ${MG.esc(h.kind)}">${h.kind === "memory" ? MG.esc(h.memory_kind || "memory") : "archived"}</span>` +
        `<span class="mid muted small">${MG.esc(h.id)}</span> <span class="muted small">score ${h.score}</span>` +
        `<pre class="clip" title="double-click to expand" ondblclick="this.classList.toggle('open')">${MG.esc(h.text)}</pre><div class="muted small">${h.kind === "memory" ? MG.esc(Object.entries(h.scope).filter(([, v]) => v).map(([k, v]) => k + "=" + v).join(" ")) :
          `session <a href="#" class="open-session" data-session="${MG.esc(h.session_id)}" data-anchor="${MG.esc(h.id)}">${MG.esc(h.session_id)}</a> · turn ${h.turn} · ${MG.esc(h.stage || "")}${h.replaced_by ? " → " + MG.esc(h.replaced_by) : ""}`}</div></div>`).join("") ||
        `<p class="muted">Nothing found${r.sessions_searched ? ` (${r.sessions_searched} session archive(s) searched)` : ""}.</p>`;
      bindOpen(el);
    } catch (e) { MG.fail(el, e); }
    sessions();
  }

  async function sessions() {
    const el = $("sessions");
    try {
      const r = await MG.api("/api/memory/sessions?" + new URLSearchParams({store: $("store").value, ...scope()}));
      el.innerHTML = r.sessions.length ? `<table><thead><tr><th>session</th><th>scope</th><th class="n">turns</th><th class="n">archived</th><th>updated</th></tr></thead><tbody>` +
        r.sessions.map((s) => `<tr><td><a href="#" class="open-session" data-session="${MG.esc(s.session_id)}">${MG.esc(s.session_id)}</a></td>` +
          `<td class="small">${MG.esc(Object.entries(s.scope).filter(([k, v]) => v && k !== "session").map(([k, v]) => k + "=" + v).join(" "))}</td>` +
          `<td class="n">${s.turns}</td><td class="n">${s.archived}</td><td class="small">${MG.esc(s.updated_at.replace("T", " ").slice(0, 19))}</td></tr>`).join("") + "</tbody></table>"
        : '<p class="muted">No sessions in this scope.</p>';
      bindOpen(el);
    } catch (e) { MG.fail(el, e); }
  }

  function bindOpen(el) {
    el.querySelectorAll("a.open-session").forEach((a) => a.addEventListener("click", (ev) => {
      ev.preventDefault(); openSession(a.dataset.session, a.dataset.anchor);
    }));
  }

  async function openSession(id, anchor) {
    const el = $("session-view");
    $("session-title").hidden = false;
    $("session-title").textContent = "Session " + id;
    el.innerHTML = '<p class="muted">Loading…</p>';
    try {
      const s = await MG.api(`/api/memory/sessions/${encodeURIComponent(id)}?store=${encodeURIComponent($("store").value)}`);
      el.innerHTML = `<p class="muted">${MG.esc(Object.entries(s.scope).filter(([, v]) => v).map(([k, v]) => k + "=" + v).join(" "))} · ${s.turns.length} turn(s) · ${s.archive.length} archived message(s)</p>` +
        s.turns.map((t) => `<div class="turn"><b>turn ${t.turn}</b> <span class="muted small">${MG.esc(t.created_at)}</span>` +
          t.messages.map((m) => MG.message(m)).join("") +
          (t.snapshot ? `<details><summary>conversation after compression (${t.snapshot.length} messages)</summary>${t.snapshot.map((m) => MG.message(m)).join("")}</details>` : "") + "</div>").join("") +
        (s.archive.length ? `<h2>Archive</h2>${s.archive.map((m) => MG.message(m, {anchor: true})).join("")}` : "");
      const target = anchor && document.getElementById(anchor);
      if (target) { target.classList.add("highlight"); target.scrollIntoView({block: "center"}); }
    } catch (e) { MG.fail(el, e); }
  }

  $("search-form").addEventListener("submit", search);
  $("store").addEventListener("change", () => search());
  ["user", "agent", "session", "team", "q"].forEach((k) => { if (params.get(k)) $(k).value = params.get(k); });
  stores().then(() => {
    search();
    if (params.get("session")) openSession(params.get("session"), decodeURIComponent(location.hash.slice(1)) || null);
  }).catch((e) => MG.fail($("results"), e));
})();
