// Wallboard: polls /api/v1/console/wallboard and /api/v1/console/callbacks
// and renders them with textContent only (names and numbers are data,
// never markup).
"use strict";
(function () {
  const M = JSON.parse(document.getElementById("i18n").textContent);
  // The page's timed reads carry the poll mark: they are not use of the
  // session, so that a wallboard left open still ends after 12 h idle.
  const POLL = { "X-Toritsugi-Poll": "1" };
  let CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const OP = document.body.dataset.operator;
  const $ = (id) => document.getElementById(id);
  // post sends a POST with the page's token; one a login in another tab
  // replaced is swapped for the session's (the state read gives it, as
  // on the console) and the request sent again, if the session is still
  // this operator's (another's: the page reloads as theirs).
  async function post(path, retried) {
    const answer = async (r) => { let json = null; try { json = await r.json(); } catch (e) { json = null; } return { status: r.status, json }; };
    let r;
    try {
      r = await answer(await fetch(path, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": CSRF } }));
    } catch (e) { return { status: 0, json: null }; }
    if (r.status === 403 && r.json && r.json.error === "invalid CSRF token" && !retried) {
      let st = null;
      try { st = await answer(await fetch("/api/v1/console/state", { credentials: "same-origin", headers: POLL })); } catch (e) { st = null; }
      const s = st && st.status === 200 && st.json;
      if (s && s.operator && s.operator.id !== OP) { location.reload(); return { status: 0, json: null }; }
      if (s && s.csrf_token && s.csrf_token !== CSRF) { CSRF = s.csrf_token; return post(path, true); }
    }
    return r;
  }
  // Logging out here, as from the console, leaves no caller data behind.
  window.toritsugiDrafts.logoutWith(document.querySelector('form[action="/logout"]'), OP, post);
  const cell = (tr, text) => { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); };
  const dur = (ms) => { const s = Math.max(0, Math.floor(ms / 1000)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); };

  function render(wb) {
    const now = Date.parse(wb.now);
    // Figures the store could not read are not zeros.
    const un = !!wb.today_unavailable;
    $("ari-down").hidden = !wb.ari_down;
    $("answered").textContent = un ? "–" : String(wb.today.answered);
    $("abandoned").textContent = un ? "–" : String(wb.today.abandoned);
    // No call reached the queue yet today: no level, not 0 %.
    $("sl").textContent = un || !wb.today.offered ? "–" : (wb.today.service_level * 100).toFixed(1) + "%";
    const ops = $("ops"); ops.replaceChildren();
    for (const o of wb.operators || []) {
      const tr = document.createElement("tr");
      cell(tr, o.id); cell(tr, o.name);
      let st = M["st_" + o.state] || o.state;
      if (o.pause_reason) st += " (" + (M["pr_" + o.pause_reason] || o.pause_reason) + ")";
      if (o.call_client && (o.state === "ringing" || o.state === "on_call")) st += ": " + o.call_client;
      if (o.reachable === false && o.state !== "offline") st += " — " + M.phone_unregistered;
      if (o.other_call && o.state !== "offline") st += " — " + M.phone_other_call;
      if (o.state === "wrap_up" && o.wrapup_held) st += " — " + M.message_unsaved;
      cell(tr, st); cell(tr, dur(now - Date.parse(o.since)));
      tr.dataset.state = o.state;
      ops.appendChild(tr);
    }
    const wt = $("waiting"); wt.replaceChildren();
    for (const q of wb.waiting || []) {
      const tr = document.createElement("tr");
      cell(tr, q.client_name || q.client_id); cell(tr, String(q.count)); cell(tr, dur(q.oldest_wait_ms));
      wt.appendChild(tr);
    }
  }

  async function done(cb) {
    try {
      const r = await fetch("/api/v1/console/callbacks/" + encodeURIComponent(cb.id) + "/done", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": CSRF },
      });
      if (r.status === 401) { location.href = "/login"; return; }
      // 409: someone else completed it first; the list refresh shows that.
      $("cb-error").hidden = r.ok || r.status === 409;
    } catch (e) {
      $("cb-error").hidden = false;
    }
    await pollCallbacks();
  }

  async function pollCallbacks() {
    try {
      const r = await fetch("/api/v1/console/callbacks", { credentials: "same-origin", headers: POLL });
      if (r.status === 401) { location.href = "/login"; return; }
      if (!r.ok) throw new Error(String(r.status));
      window.toritsugiCallbacks($("callbacks"), (await r.json()).callbacks || [], M, done);
    } catch (e) {
      $("conn").hidden = false;
    }
  }

  async function poll() {
    try {
      const r = await fetch("/api/v1/console/wallboard", { credentials: "same-origin", headers: POLL });
      if (r.status === 401) { location.href = "/login"; return; }
      if (!r.ok) throw new Error(String(r.status));
      render(await r.json());
      $("conn").hidden = true;
    } catch (e) {
      $("conn").hidden = false;
    }
  }
  poll();
  pollCallbacks();
  setInterval(poll, 2000);
  setInterval(pollCallbacks, 5000);
})();
