// Operator console: live state and screen pop over server-sent events, the
// intake form built from the client's FormSpec (show_if branches, by an
// answer or by the caller's class; required marks), a server-checked
// read-back before save, and a draft kept in localStorage. All call data
// is inserted with textContent: it is hostile.
"use strict";
(function () {
  const M = JSON.parse(document.getElementById("i18n").textContent);
  let CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const OP = document.body.dataset.operator;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };

  let call = null;        // current callView {pop, form, intakes}
  let correcting = null;  // intake being corrected
  let checked = null;     // values confirmed by the read-back
  let checkedNorm = null; // the same as the server normalised them (090-… as +81…)
  let state = null;

  // api answers {status, json}; status 0 when no answer came (the network
  // failed or 20 s passed): the request may or may not have been done.
  // how.poll marks a read the page makes by itself, on a timer: the
  // server does not count it as use of the session, so that a console
  // left open with nobody at it still ends after 12 h idle.
  const POLL = { poll: true };
  async function api(method, path, body, how = {}) {
    const sent = CSRF;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 20000);
    const opts = { method, credentials: "same-origin", headers: { "X-CSRF-Token": CSRF }, signal: ctl.signal };
    if (how.poll) opts.headers["X-Toritsugi-Poll"] = "1";
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let r;
    try { r = await fetch(path, opts); } catch (e) { return { status: 0, json: null }; } finally { clearTimeout(timer); }
    if (r.status === 401) { location.href = "/login?lang=" + document.body.dataset.lang; }
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    if (r.status === 403 && json && json.error === "invalid CSRF token" && !how.retried) {
      // A login in another tab started a new session: take its token
      // (from the state, which needs none) and try once more, if it is
      // still this operator's; another operator's session means this
      // page is no longer theirs to act for.
      const st = await api("GET", "/api/v1/console/state", undefined, { retried: true, poll: true });
      if (st.status === 200 && st.json && st.json.operator && st.json.operator.id !== OP) { location.reload(); return { status: 0, json: null }; }
      if (st.status === 200 && st.json && st.json.csrf_token && st.json.csrf_token !== sent) {
        CSRF = st.json.csrf_token;
        const lf = document.querySelector('#logout') && document.querySelector('#logout').form;
        if (lf && lf.csrf_token) lf.csrf_token.value = CSRF;
        return api(method, path, body, { retried: true, poll: how.poll });
      }
    }
    return { status: r.status, json };
  }

  // A save's request id: made once, sent again with every retry, so that a
  // save that went through but whose answer was lost counts once. Kept
  // per page and call (ridOf: a reload keeps it); dropped once the server has
  // answered that it stored nothing (4xx) or stored it.
  const newRequestID = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  let correctRID = null; // the request id of the correction being saved

  // ---- state ----
  // streamStates counts the states the event stream gave: an answer (to a
  // control, or a read of the state) that a stream state overtook is
  // older than what is shown (the phone rings while the page would say
  // 受付可), and the stream gives what the control did anyway.
  let streamStates = 0;
  // skew is the server's clock less the PC's (st.now): wrap-up ends by the
  // server's, and an operator's PC may be minutes off.
  let skew = 0;
  function renderState(st) {
    state = st;
    if (st.now) skew = Date.parse(st.now) - Date.now();
    let text = M["st_" + st.state] || st.state;
    if (st.pause_reason) text += " (" + (M["pr_" + st.pause_reason] || st.pause_reason) + ")";
    // 離席 pressed on a call: it applies after the call's wrap-up.
    if (st.pending_pause) text += " → " + M.pause_after_call + " (" + (M["pr_" + st.pending_pause] || st.pending_pause) + ")";
    $("state").textContent = text;
    $("state").dataset.state = st.state;
    // Calls never ring an unregistered softphone: say so, loudly.
    $("phone-down").hidden = st.reachable !== false || st.state === "offline";
    $("auto-paused").hidden = !(st.state === "paused" && st.pause_reason === "no-answer");
    $("other-call").hidden = !st.other_call || st.state === "offline";
    $("wrap-held").hidden = !(st.state === "wrap_up" && st.wrapup_held);
    // Waiting for a call when calls can come; the phone ringing (or the
    // call just answered, its screen on its way) is no time to say there
    // is no call and to press 受付可.
    $("no-call").textContent = st.state === "available" ? M.no_call
      : st.state === "ringing" ? M.no_call_ringing : st.state === "on_call" ? M.no_call_connecting : M.no_call_off;
    // The call ringing the phone, or answered (a phone that answers at
    // once shows no ringing), until its pop.
    if ((st.state === "ringing" || st.state === "on_call") && st.call_id && st.call_id !== latestPop) {
      if (!ringing || ringing.id !== st.call_id) {
        ringing = { id: st.call_id, client: st.call_client || "" };
        // Said once, as it starts: not again at the answer, which would
        // talk over the caller.
        $("announce").textContent = M.ringing_for + ringing.client + M.for_client;
      }
    } else {
      ringing = null;
    }
    showRinging();
    tickSince();
  }
  // ringing is the call ringing the phone (or answered, its screen on the
  // way): {id, client}, null when none. The last call's screen stays until
  // the new call's pop, which comes once the call is connected: the page
  // says whose call it is over it, and fades it, so that the operator
  // does not answer in the last client's name.
  let ringing = null;
  function showRinging() {
    const on = !!ringing && !(call && call.pop.call_id === ringing.id);
    const overLast = on && !$("pop").hidden;
    $("ringing-for").hidden = !on;
    $("pop").classList.toggle("stale", overLast);
    // Nor can the last call's screen be typed in or read out meanwhile:
    // a message typed now would be taken for the last client's.
    $("pop").inert = overLast;
    $("ringing-for").textContent = !on ? ""
      : (state && state.state === "on_call" ? M.connected_for : M.ringing_for) + ringing.client + M.for_client + (overLast ? M.below_is_last : "");
  }
  const mmss = (s) => Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  function tickSince() {
    if (state && state.state === "wrap_up" && state.wrapup_until) {
      // Wrap-up ends by itself: show what is left, not what has passed.
      const left = Math.max(0, Math.ceil((Date.parse(state.wrapup_until) - (Date.now() + skew)) / 1000));
      $("state-since").textContent = M.wrapup_left + " " + mmss(left);
      return;
    }
    if (!state || !state.since || state.since.startsWith("0001")) { $("state-since").textContent = ""; return; }
    $("state-since").textContent = mmss(Math.max(0, Math.floor((Date.now() + skew - Date.parse(state.since)) / 1000)));
  }
  setInterval(tickSince, 1000);

  async function control(path, body) {
    const seq = streamStates;
    const r = await api("POST", path, body || {});
    if (r.status === 200 && r.json && r.json.state) { if (seq === streamStates) renderState(r.json); return; }
    // Say so: a press that did nothing must not look like one that did.
    $("status").textContent = M.control_failed + (r.status === 0 ? "" : ((r.json && r.json.error) ? ": " + r.json.error : " (" + r.status + ")"));
  }
  $("btn-available").addEventListener("click", () => control("/api/v1/console/available"));
  $("btn-pause").addEventListener("click", () => control("/api/v1/console/pause", { reason: $("pause-reason").value }));
  $("btn-endwrap").addEventListener("click", () => control("/api/v1/console/wrapup/end"));
  // A call that needs no message (a sales call refused, a wrong number,
  // silence) is recorded as such when 記録 is pressed (not on each change
  // of the list: arrow keys step through it): not billed, and the wrap-up
  // kept for its message ends. One request at a time.
  let classing = false;
  $("btn-class").addEventListener("click", async () => {
    if (!call || classing) return;
    const id = call.pop.call_id, want = $("call-class").value;
    classing = true;
    $("class-status").textContent = "";
    try {
      const r = await api("POST", "/api/v1/console/calls/" + encodeURIComponent(id) + "/class", { class: want });
      if (!call || call.pop.call_id !== id) return; // another call is shown now
      if (r.status === 200) { call.class = want; $("class-status").textContent = M.class_saved; return; }
      $("call-class").value = call.class || "";
      // A call with a saved message (sent to the client) is billed.
      $("class-status").textContent = r.status === 409 && r.json && r.json.has_message ? M.class_has_message
        : M.control_failed + (r.status ? " (" + r.status + ")" : "");
    } finally { classing = false; }
  });
  $("btn-extendwrap").addEventListener("click", () => control("/api/v1/console/wrapup/extend", { seconds: 60 }));

  // ---- draft ----
  // Drafts are {at, values} under one key per operator and call; drafts
  // older than a day are dropped so caller data does not linger.
  const DRAFT_PREFIX = window.toritsugiDrafts.prefix;
  const DRAFT_TTL_MS = 24 * 3600 * 1000;
  const draftKey = () => (call ? DRAFT_PREFIX + OP + "." + call.pop.call_id : null);
  function saveDraft() {
    if (correcting) {
      // A correction being typed is kept too, per message and the version
      // it corrects: the next call's pop, a reload or a new login ends the
      // correction, and pressing 訂正 on the message again brings it back.
      localStorage.setItem(fixKey(correcting), JSON.stringify({ at: Date.now(), op: OP, values: readAll(), version: correcting.version }));
      return;
    }
    const k = draftKey();
    if (k) localStorage.setItem(k, JSON.stringify({ at: Date.now(), op: OP, values: readAll() }));
  }
  const fixKey = (i) => DRAFT_PREFIX + OP + ".fix." + i.id;
  // fixDraft is the kept correction of message i, if it corrects i's
  // current version (one corrected since is another message to correct).
  function fixDraft(i) {
    try {
      const d = JSON.parse(localStorage.getItem(fixKey(i)) || "null");
      return d && d.version === i.version ? d.values : null;
    } catch (e) { return null; }
  }
  // A save's request id is this page's, not the draft's: two tabs on one
  // call share its draft, and a save id taken from it made one tab's save
  // look like the other's own (no word that it was saved elsewhere; its
  // own save then refused as a repeat with other values). Kept per call
  // in sessionStorage: a reload of the tab keeps it, another tab has its
  // own.
  const ridKey = (callID) => "toritsugi.rid." + OP + "." + callID;
  function ridOf(callID) {
    try { return (callID && sessionStorage.getItem(ridKey(callID))) || null; } catch (e) { return null; }
  }
  function setRID(callID, rid) {
    try { if (rid) sessionStorage.setItem(ridKey(callID), rid); else sessionStorage.removeItem(ridKey(callID)); } catch (e) { /* none kept */ }
  }
  // dropRID forgets call callID's save id if it is rid (a save answered).
  function dropRID(callID, rid) { if (ridOf(callID) === rid) setRID(callID, null); }
  function loadDraft() {
    const k = draftKey();
    if (!k) return {};
    try {
      const d = JSON.parse(localStorage.getItem(k) || "null");
      return (d && d.values) || {};
    } catch (e) { return {}; }
  }
  // Another operator's drafts go too: on a shared computer, whoever logs
  // in next does not keep the last one's callers in this browser (the
  // same operator logging in again after a session expired gets theirs).
  // Not their saves still waiting to be sent: those are messages callers
  // left, which reach the client only when that operator logs in here
  // again (this page neither sends nor shows them); they go after a day
  // like the rest. A draft names its operator (op): ids may contain dots,
  // so the key's prefix alone cannot tell "taro" from "taro.y". Drafts
  // from before op was kept are told by their key, and go within a day.
  function pruneDrafts() {
    const mine = DRAFT_PREFIX + OP + ".";
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith(DRAFT_PREFIX)) continue;
      let d = null;
      try { d = JSON.parse(localStorage.getItem(k)); } catch (e) { d = null; }
      const at = (d && d.at) || 0;
      const other = d && typeof d.op === "string" ? d.op !== OP : !k.startsWith(mine);
      if ((other && !window.toritsugiDrafts.othersWaiting(d, OP)) || Date.now() - at > DRAFT_TTL_MS) localStorage.removeItem(k);
    }
  }
  pruneDrafts();
  // Logging out leaves no caller data behind on a shared computer (the
  // saves still to send too: asked first, while any waits).
  const logout = document.getElementById("logout");
  // Through the API, with the token refresh of api(): a page older than a
  // login in another tab logs out too (its form's token is the replaced
  // session's); the drafts go only once the server said so.
  window.toritsugiDrafts.logoutWith(logout && logout.form, OP, (path) => api("POST", path));

  // ---- form ----
  const fields = () => (call && call.form && call.form.fields) || [];

  function buildInput(f) {
    const name = "f-" + f.id;
    const radios = (opts) => {
      const box = el("span"); box.className = "choices";
      // A group a screen reader names by the field's label.
      box.setAttribute("role", "radiogroup"); box.setAttribute("aria-labelledby", "l-" + f.id);
      for (const o of opts) {
        const lab = el("label");
        const r = document.createElement("input");
        r.type = "radio"; r.name = name; r.value = o.value; r.id = name + "-" + o.value;
        lab.appendChild(r); lab.appendChild(document.createTextNode(" " + o.label + " "));
        box.appendChild(lab);
      }
      return box;
    };
    let input;
    switch (f.type) {
      case "multiline": input = document.createElement("textarea"); input.rows = 3; break;
      case "phone": input = document.createElement("input"); input.type = "tel"; input.inputMode = "tel"; break;
      case "datetime": input = document.createElement("input"); input.type = "datetime-local"; break;
      // An optional question can be left unanswered again after a
      // click by mistake (a radio cannot be unchecked).
      case "choice": return radios((f.choices || []).concat(f.required ? [] : [{ value: "", label: M.unanswered }]));
      case "yesno": return radios([{ value: "yes", label: M.yes }, { value: "no", label: M.no }].concat(f.required ? [] : [{ value: "", label: M.unanswered }]));
      default: input = document.createElement("input"); input.type = "text";
    }
    input.name = name; input.id = name;
    return input;
  }

  function buildForm() {
    const box = $("fields");
    box.replaceChildren();
    for (const f of fields()) {
      const div = el("div", undefined, "field");
      div.dataset.field = f.id;
      const group = f.type === "choice" || f.type === "yesno";
      const lab = el(group ? "span" : "label", f.label, "main");
      lab.id = "l-" + f.id;
      if (!group) lab.htmlFor = "f-" + f.id;
      if (f.required) lab.appendChild(el("span", M.required, "req"));
      div.appendChild(lab);
      // The script's hint (what to say or ask), shown with the question.
      let described = "";
      if (f.help) {
        const help = el("p", f.help, "help"); help.id = "help-" + f.id;
        div.appendChild(help);
        described = help.id + " ";
      }
      const input = buildInput(f);
      const err = el("span", "", "err"); err.id = "err-" + f.id;
      err.setAttribute("role", "alert");
      input.setAttribute("aria-describedby", described + err.id);
      div.appendChild(input);
      div.appendChild(err);
      box.appendChild(div);
    }
    const closing = (call && call.form && call.form.closing) || "";
    $("closing").textContent = closing;
    $("closing-box").hidden = !closing;
  }

  function readField(f) {
    const name = "f-" + f.id;
    if (f.type === "choice" || f.type === "yesno") {
      const c = document.querySelector('input[name="' + CSS.escape(name) + '"]:checked');
      return c ? c.value : "";
    }
    const e = document.getElementById(name);
    return e ? e.value : "";
  }
  function writeField(f, v) {
    const name = "f-" + f.id;
    if (f.type === "choice" || f.type === "yesno") {
      for (const r of document.querySelectorAll('input[name="' + CSS.escape(name) + '"]')) r.checked = r.value === v;
      return;
    }
    const e = document.getElementById(name);
    if (e) e.value = f.type === "datetime" ? toDateTimeInput(v) : f.type === "phone" ? toPhoneInput(v) : (v || "");
  }
  // toPhoneInput writes a stored Japanese number (+81355551234;ext=12,
  // as a correction opens it) as operators type and say it
  // (0355551234 内線12); other forms are kept.
  function toPhoneInput(v) {
    const m = /^\+81(\d+)(?:;ext=(.+))?$/.exec(v || "");
    return m ? "0" + m[1] + (m[2] ? " 内線" + m[2] : "") : (v || "");
  }
  // toDateTimeInput writes a stored time (RFC 3339, e.g. a correction's
  // 2026-11-11T15:00:00+09:00) as a datetime-local input takes it, in Japan
  // time; an input's own form (a draft) is kept. The input refuses any
  // other form and would show nothing: the correction would drop the time.
  function toDateTimeInput(v) {
    if (!v || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return v || "";
    const d = new Date(v);
    if (isNaN(d)) return "";
    const p = {};
    for (const x of new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(d)) p[x.type] = x.value;
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
  }
  function readAll() {
    const out = {};
    for (const f of fields()) out[f.id] = readField(f);
    return out;
  }
  // callerClass is the caller class a field's show_if caller is shown
  // for, as the server checks the form: the message being corrected
  // keeps its own (it may be an earlier call's), a new message takes the
  // call's (the screen pop's). None known: no such field is shown.
  function callerClass() {
    if (correcting) return correcting.caller_class || "";
    return (call && call.pop.caller_class) || "";
  }
  function visible(f, vals, seen) {
    if (!f.show_if) return true;
    if (f.show_if.caller) return callerClass() !== "" && f.show_if.caller.includes(callerClass());
    const dep = fields().find((x) => x.id === f.show_if.field);
    if (!dep || seen.has(dep.id)) return false;
    seen.add(f.id);
    if (!visible(dep, vals, seen)) return false;
    return (f.show_if.equals || []).includes(vals[dep.id] || "");
  }
  // readVisible returns the values of the fields currently shown.
  function readVisible() {
    const all = readAll(), out = {};
    for (const f of fields()) if (visible(f, all, new Set())) out[f.id] = all[f.id];
    return out;
  }
  function applyShowIf() {
    const all = readAll();
    for (const f of fields()) {
      const div = document.querySelector('.field[data-field="' + CSS.escape(f.id) + '"]');
      if (div) div.hidden = !visible(f, all, new Set());
    }
  }
  function resetCheck() { checked = null; checkedNorm = null; $("readback-box").hidden = true; }
  function clearErrors() { for (const e of document.querySelectorAll("#fields .err")) e.textContent = ""; }
  // showErrors marks each refused field and moves to the first; an error
  // of no field (a client no longer served, say) goes to the status line.
  function showErrors(fieldErrs) {
    let first = null, other = "";
    for (const [id, msg] of Object.entries(fieldErrs)) {
      if (!msg) continue;
      const e = document.getElementById("err-" + id);
      if (e) {
        e.textContent = msg;
        first = first || document.querySelector('[name="f-' + id + '"]');
      } else {
        other = msg;
      }
    }
    $("status").textContent = M.fix_errors + (other ? ": " + other : "");
    if (first) first.focus();
  }
  // When the operator last entered text (an input, an IME composition),
  // anywhere on the page: a new call takes the cursor unless they were
  // entering text just now. Where the cursor merely is says nothing: a
  // save leaves it in the emptied form, and the next call is theirs.
  let enteredAt = 0, composing = false;
  const typingWindowMS = 5000;
  document.addEventListener("input", () => { enteredAt = Date.now(); }, true);
  // A click or a key in the form (into a field to correct it, Tab to the
  // next) is typing too, before any input.
  for (const t of ["pointerdown", "keydown"]) $("fields").addEventListener(t, () => { enteredAt = Date.now(); }, true);
  document.addEventListener("compositionstart", () => { composing = true; enteredAt = Date.now(); }, true);
  document.addEventListener("compositionend", () => { composing = false; enteredAt = Date.now(); }, true);
  // Ctrl+Enter (or ⌘+Enter) saves once the read-back is shown.
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && checked) { ev.preventDefault(); $("btn-save").click(); }
  });
  function fillForm(values) {
    for (const f of fields()) writeField(f, values[f.id] || "");
    applyShowIf();
  }

  $("fields").addEventListener("input", () => { applyShowIf(); resetCheck(); saveDraft(); });
  $("fields").addEventListener("change", () => { applyShowIf(); resetCheck(); saveDraft(); });

  $("btn-cancel-correct").addEventListener("click", () => {
    if (!correcting) return;
    localStorage.removeItem(fixKey(correcting)); // given up: not brought back
    correcting = null; correctRID = null; $("correcting").hidden = true;
    fillForm(loadDraft()); resetCheck(); clearErrors();
    $("status").textContent = "";
  });

  $("intake-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!call) return;
    clearErrors(); resetCheck();
    const values = readVisible();
    // What this check is about, fixed before the wait: a reply that comes
    // after the next call popped (or a correction began or ended) is not
    // that form's read-back, and must not arm its Save.
    const target = call.pop.call_id, fixing = correcting;
    const body = fixing ? { intake_id: fixing.id, values } : { call_id: target, values };
    const r = await api("POST", "/api/v1/console/validate", body);
    if (!call || call.pop.call_id !== target || correcting !== fixing) return;
    if (r.status === 200) {
      checked = values; checkedNorm = r.json.values || {};
      $("readback").textContent = r.json.read_back;
      $("readback-box").hidden = false;
      $("status").textContent = "";
      $("btn-save").focus(); // read back, then Enter saves
    } else if (r.status === 422 && r.json && r.json.fields) {
      showErrors(r.json.fields);
    } else {
      $("status").textContent = M.save_failed + ((r.json && r.json.error) ? ": " + r.json.error : "");
    }
  });

  $("btn-save").addEventListener("click", async () => {
    if (!call || !checked || $("btn-save").disabled) return;
    // What this save is about, fixed before the wait: the next call may
    // pop (or an earlier one be opened) while it is on the way, and its
    // answer must not touch that call's form or draft.
    const target = call.pop.call_id, key = draftKey(), fixing = correcting;
    const sent = checked, sentNorm = checkedNorm || {};
    let rid;
    if (fixing) {
      rid = correctRID = correctRID || newRequestID();
    } else {
      rid = ridOf(target);
      if (!rid) { rid = newRequestID(); setRID(target, rid); saveDraft(); }
    }
    const formAtSend = JSON.stringify(readAll());
    $("btn-save").disabled = true;
    $("status").textContent = M.saving;
    $("status").classList.remove("alert");
    // What is saved is what was read back: nothing may be typed into the
    // form while the save is on its way (an addition typed then was wiped
    // by the answer, which empties the form, and never saved).
    const form = $("intake-form");
    form.inert = true;
    let r;
    try {
      r = fixing
        ? await api("PUT", "/api/v1/console/intakes/" + encodeURIComponent(fixing.id), { values: checked, request_id: rid, version: fixing.version })
        : await api("POST", "/api/v1/console/intakes", { call_id: target, values: checked, request_id: rid });
    } finally {
      // Only while this save's form is the one shown: another call's form
      // (freed when it popped) may have its own save on the way by now.
      if (call && call.pop.call_id === target && correcting === fixing) {
        $("btn-save").disabled = false;
        form.inert = false;
      }
    }
    const here = call && call.pop.call_id === target && correcting === fixing;
    const saved = r.json && r.json.intake;
    const transient = r.status === 0 || r.status >= 500 || [401, 403, 408, 429].includes(r.status);
    if (!transient && localStorage.getItem(pendPrefix() + rid) !== null) {
      // Answered at last (pressed again): nothing left to send again.
      localStorage.removeItem(pendPrefix() + rid);
      showPending();
    }
    if (r.status >= 400 && r.status < 500 && !(r.status === 409 && saved)) {
      // Refused: nothing was stored; the next try is a new request. (A
      // 409 with the intake: stored already, by this request.)
      if (fixing) correctRID = null; else dropRID(target, rid);
    }
    if ((r.status === 201 || r.status === 200) && saved) {
      if (fixing) { correctRID = null; localStorage.removeItem(fixKey(fixing)); }
      // A call with a message has no class (the server took back one
      // given before it).
      if (here && !fixing) { call.class = ""; $("call-class").value = ""; $("class-status").textContent = ""; }
      if (key && !fixing) { localStorage.removeItem(key); dropRID(target, rid); }
      refreshRecent();
      if (!here) { $("status").textContent = M.saved_other; return; }
      call.intakes = [saved].concat((call.intakes || []).filter((i) => i.id !== saved.id));
      correcting = null; $("correcting").hidden = true;
      // After a correction, the message being written before it (its
      // draft) comes back; after a new message, an empty form.
      fillForm(fixing ? loadDraft() : {}); resetCheck(); clearErrors(); renderHistory();
      // Saved, and said whether it will reach the client: a message no
      // destination takes is not "saved" and done.
      const relayNote = r.json.relay_problem === "no_destination" ? M.relay_no_destination
        : r.json.relay_problem ? M.relay_not_queued : "";
      $("status").textContent = M.saved + (relayNote ? "。" + relayNote : "");
      enteredAt = 0; // what was typed is saved: nothing of it is still being typed
      $("status").classList.toggle("alert", !!relayNote);
      // The read-back (and its Save button, which had the focus) is
      // hidden: the keyboard goes back to the form, for the next message,
      // and the line saying it was saved stays in sight (below the form,
      // it was off the screen of a laptop).
      $("status").scrollIntoView({ block: "nearest" });
      const f = document.querySelector("#fields .field:not([hidden]) input, #fields .field:not([hidden]) textarea");
      if (f) f.focus({ preventScroll: true });
      return;
    }
    if (r.status === 0) {
      // No answer (the network dropped): kept, and sent again once the
      // server can be reached (retryPending).
      keepPending(rid, {
        method: fixing ? "PUT" : "POST",
        path: fixing ? "/api/v1/console/intakes/" + encodeURIComponent(fixing.id) : "/api/v1/console/intakes",
        body: fixing ? { values: sent, request_id: rid, version: fixing.version } : { call_id: target, values: sent, request_id: rid },
        target, draft: fixing ? "" : key, fix: fixing ? fixKey(fixing) : "", form: formAtSend,
      });
    }
    if (!here) { $("status").textContent = r.status === 0 ? M.save_unknown : M.save_failed; return; }
    if (r.status === 0) {
      $("status").textContent = M.save_unknown;
    } else if (r.status === 409 && r.json && r.json.current) {
      // Corrected meanwhile by someone else (nothing was saved): the form
      // shows the current version with this operator's changes on it,
      // field by field (a field they changed keeps their value; one they
      // left takes the current one), to check and save again: neither
      // the other's correction nor what they typed is lost. A field both
      // changed is named. Compared as stored (normalised: a time typed
      // 2026-11-11T15:00 is stored with its zone, a number typed 090-…
      // as +81…); a field the operator's answers hid is left to the
      // current version.
      const cur = r.json.current, base = fixing.values || {}, theirs = cur.values || {};
      const merged = {}, both = [];
      for (const f of fields()) {
        const b = base[f.id] || "", m = sentNorm[f.id] || "", o = theirs[f.id] || "";
        const changed = (f.id in sent) && m !== b;
        merged[f.id] = changed ? sent[f.id] : o;
        if (changed && o !== b && o !== m) both.push(f.label || f.id);
      }
      call.intakes = [cur].concat((call.intakes || []).filter((i) => i.id !== cur.id));
      correcting = cur; correctRID = null;
      fillForm(merged); resetCheck(); renderHistory(); saveDraft();
      $("status").textContent = M.corrected_meanwhile + (both.length ? M.changed_by_both + both.join("、") : "");
    } else if (r.status === 409 && saved) {
      // Saved already, by an earlier press whose answer was lost, with the
      // values before the last change, or from another page of this
      // operator's (saved_elsewhere: a second PC, another tab): shown, and
      // the form, what was typed kept, becomes its correction, so that
      // the change is saved as one (not as a second message).
      if (!fixing && key) { localStorage.removeItem(key); dropRID(target, rid); }
      call.intakes = [saved].concat((call.intakes || []).filter((i) => i.id !== saved.id));
      correcting = saved; correctRID = null; $("correcting").hidden = false;
      applyShowIf(); resetCheck(); renderHistory(); saveDraft();
      $("status").textContent = r.json.saved_elsewhere ? M.saved_elsewhere : M.save_conflict;
      $("status").classList.toggle("alert", !!r.json.saved_elsewhere);
    } else if (r.status === 422 && r.json && r.json.fields) {
      resetCheck();
      showErrors(r.json.fields);
    } else {
      $("status").textContent = M.save_failed + ((r.json && r.json.error) ? ": " + r.json.error : "");
    }
  });

  // ---- saves lost on the network ----
  // A save that got no answer is kept (under the drafts' prefix: a day at
  // most; another operator logging in or out here leaves it, for this
  // operator's next login here) and sent again,
  // with its request id (a second arrival is the same message), each time
  // the server answers a state read, until it is answered: the caller's
  // message is not left to the operator remembering to press Save again,
  // nor to a screen the next call replaced.
  const pendPrefix = () => DRAFT_PREFIX + OP + ".pending.";
  const pendingSaves = () => window.toritsugiDrafts.pending(OP);
  function keepPending(rid, p) {
    localStorage.setItem(pendPrefix() + rid, JSON.stringify(Object.assign({ at: Date.now(), op: OP }, p)));
    showPending();
  }
  function showPending() {
    const n = pendingSaves().length;
    $("pending").hidden = n === 0;
    $("pending").textContent = n ? M.pending_saves.replace("{n}", n) : "";
  }
  let retrying = false;
  async function retryPending() {
    if (retrying) return;
    retrying = true;
    try {
      for (const { k, d } of pendingSaves()) {
        const r = await api(d.method, d.path, d.body);
        // Still cut off, or nothing said of it (a restart's 502, a
        // session to log in again to): kept for the next try.
        if (r.status === 0 || r.status >= 500 || [401, 403, 408, 429].includes(r.status)) return;
        localStorage.removeItem(k);
        if (!d.fix && d.body) dropRID(d.target, d.body.request_id); // answered
        const saved = r.json && r.json.intake;
        const here = call && call.pop.call_id === d.target && !correcting;
        if (r.status === 409 && saved) {
          // Stored already by this request with other values (an earlier
          // press whose answer was lost, before what was added since):
          // as the Save button does, the form becomes its correction,
          // nothing typed lost; a call not on screen keeps its draft
          // (未保存 in the recent calls: saving it opens the correction).
          if (d.fix) localStorage.removeItem(d.fix);
          if (here && !d.fix) {
            if (d.draft) localStorage.removeItem(d.draft);
            call.intakes = [saved].concat((call.intakes || []).filter((i) => i.id !== saved.id));
            correcting = saved; correctRID = null; $("correcting").hidden = false;
            applyShowIf(); resetCheck(); renderHistory(); saveDraft();
          }
          // From another page (saved_elsewhere): this page's message was
          // not stored; what it held is the correction to check.
          $("status").textContent = r.json.saved_elsewhere ? M.saved_elsewhere_retry : M.saved_on_retry_changed;
          $("status").classList.toggle("alert", !!r.json.saved_elsewhere);
        } else if ((r.status === 200 || r.status === 201) && saved) {
          // The form (and draft) go only if they still hold what was sent:
          // what was typed after the lost save stays, to be corrected.
          const unchanged = d.draft && localStorage.getItem(d.draft) !== null &&
            JSON.stringify((JSON.parse(localStorage.getItem(d.draft)) || {}).values || {}) === d.form;
          if (d.fix) localStorage.removeItem(d.fix);
          if (unchanged || (d.draft && localStorage.getItem(d.draft) === null)) localStorage.removeItem(d.draft);
          if (here) {
            call.intakes = [saved].concat((call.intakes || []).filter((i) => i.id !== saved.id));
            if (unchanged && JSON.stringify(readAll()) === d.form) { fillForm({}); resetCheck(); clearErrors(); }
            renderHistory();
          }
          $("status").textContent = unchanged || !d.draft ? M.saved_on_retry : M.saved_on_retry_changed;
          $("status").classList.remove("alert");
        } else {
          // Refused: nothing stored; the draft stays, to be checked and
          // saved again (as a new request: its id was dropped above).
          $("status").textContent = M.retry_refused + (r.json && r.json.error ? ": " + r.json.error : "");
          $("status").classList.add("alert");
        }
        refreshRecent();
      }
    } finally {
      retrying = false;
      showPending();
    }
  }

  // ---- screen pop ----
  function renderHistory() {
    const ul = $("history");
    ul.replaceChildren();
    // Japan time, whatever zone the operator's computer is set to.
    const fmt = (t) => new Date(t).toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "ja-JP", { timeZone: "Asia/Tokyo" });
    for (const i of call.intakes || []) {
      const li = el("li"); li.className = "intake"; li.dataset.intake = i.id;
      li.appendChild(el("span", fmt(i.created_at) + " ")); 
      li.appendChild(el("span", i.read_back || JSON.stringify(i.values), "summary"));
      if (i.version > 1) li.appendChild(el("span", " (v" + i.version + ")"));
      // Each version's entries, labelled by version once there is a
      // correction (the same destinations listed twice read as a repeat).
      const versioned = (i.relay || []).some((s) => s.version > 1);
      const relay = (i.relay || []).map((s) => (versioned ? "v" + s.version + " " : "") + s.destination + ": " + (M["rs_" + s.state] || s.state) + (s.last_error ? " – " + s.last_error : "")).join(", ");
      if (relay) li.appendChild(el("div", M.relay + ": " + relay, "relay"));
      if (i.operator_id === OP && i.client_id === call.pop.client_id) {
        const b = el("button", M.correct); b.type = "button";
        b.addEventListener("click", () => {
          saveDraft(); // the message being written stays the call's draft
          correcting = i; correctRID = null; $("correcting").hidden = false;
          const kept = fixDraft(i);
          fillForm(kept || i.values || {}); resetCheck(); clearErrors();
          $("status").textContent = kept ? M.fix_draft_back : "";
        });
        li.appendChild(b);
      }
      ul.appendChild(li);
    }
    for (const h of call.pop.history || []) {
      ul.appendChild(el("li", fmt(h.at) + " " + h.result + " " + h.summary, "call"));
    }
    if (!ul.children.length) ul.appendChild(el("li", M.no_history));
  }

  function renderCall(cv) {
    if (!cv) { $("pop").hidden = true; $("no-call").hidden = false; showRinging(); return; }
    const fresh = !call || call.pop.call_id !== cv.pop.call_id;
    // Leave the field being typed in while the old call is still the
    // current one: its change event saves the old call's draft. Removed
    // by the rebuild instead, it fired with the new call current and
    // wrote the old call's text as the new call's draft.
    const typing = !!document.activeElement && ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName) &&
      (composing || Date.now() - enteredAt < typingWindowMS);
    if (fresh && document.activeElement && $("fields").contains(document.activeElement)) document.activeElement.blur();
    call = cv;
    const p = cv.pop;
    $("no-call").hidden = true; $("pop").hidden = false;
    $("pop-client").textContent = p.client_name;
    $("pop-greeting").textContent = p.greeting_text;
    $("pop-manual").textContent = p.manual;
    $("pop-manual").closest("details").hidden = !p.manual; // no manual: no empty box
    // The number as it came after the form people read, unless it says
    // it already (5001（形式不明）) or there is none (表示圏外, not "表示圏外 ()").
    $("pop-caller").textContent = p.caller_display && p.caller_number && !p.caller_display.includes(p.caller_number)
      ? p.caller_display + " (" + p.caller_number + ")" : (p.caller_display || p.caller_number);
    $("pop-known").textContent = p.known_name || "—";
    $("pop-waited").textContent = Math.round((p.waited_ms || 0) / 1000) + M.seconds;
    if (fresh || !classing) $("call-class").value = cv.class || "";
    if (fresh) {
      $("class-status").textContent = "";
      // The form is this call's now, free to type in and to save whatever
      // save of the last call's message is still on its way.
      $("intake-form").inert = false;
      $("btn-save").disabled = false;
      $("status").classList.remove("alert");
      correcting = null; $("correcting").hidden = true;
      buildForm(); fillForm(loadDraft()); resetCheck(); clearErrors();
      $("status").textContent = "";
      // A new call: the tab says so, and typing goes to the form.
      document.title = "● " + p.client_name + " — toritsugi";
      $("announce").textContent = M.new_call + ": " + p.client_name + " " + (p.caller_display || "");
      // Into the first shown field, unless the operator was typing in a
      // field just now (keys meant for the last call must not land in
      // this one).
      const f = document.querySelector("#fields .field:not([hidden]) input, #fields .field:not([hidden]) textarea");
      if (f && !typing) f.focus();
    }
    renderHistory();
    if (ringing && cv.pop.call_id === ringing.id) ringing = null; // its screen came
    showRinging();
  }

  // refreshRelay re-reads the delivery status of intakes not yet delivered.
  const FINAL = new Set(["delivered", "dead", "discarded"]); // pkg/relay states: pending, delivered, dead, discarded
  async function refreshRelay() {
    if (!call) return;
    let changed = false;
    for (const i of call.intakes || []) {
      if ((i.relay || []).length && i.relay.every((s) => FINAL.has(s.state))) continue;
      const r = await api("GET", "/api/v1/console/intakes/" + encodeURIComponent(i.id), undefined, POLL);
      if (r.status === 200 && r.json && r.json.intake) {
        i.relay = r.json.intake.relay;
        changed = true;
      }
    }
    if (changed) renderHistory();
  }
  setInterval(refreshRelay, 5000);

  // noteSaved shows a message saved for one of this operator's calls, as
  // the stream's "saved" event (or the state read) tells it: on this page
  // or another of theirs (a second PC, another tab). The recent calls
  // mark it at once; on the call's screen it is listed, and one saved
  // elsewhere is said: this page's form is then to be saved as its
  // correction (a save of its own is refused, and becomes that).
  function noteSaved(ev) {
    const i = ev && ev.intake;
    if (!i || !ev.call_id) return;
    refreshRecent();
    if (!call || call.pop.call_id !== ev.call_id || (call.intakes || []).some((x) => x.id === i.id)) return;
    call.intakes = [i].concat(call.intakes || []);
    renderHistory();
    // This page's own save, its answer on the way (or lost, to be sent
    // again): nothing to say. Another tab's is another screen's.
    if (i.id === ridOf(ev.call_id)) return;
    $("status").textContent = M.saved_elsewhere_now;
    $("status").classList.add("alert");
  }

  // pops counts the pops seen: a state read that a pop overtook is older
  // than what is on screen, and must not replace it.
  let pops = 0;
  // readState reads the state; null when it could not, or when the
  // session is another operator's now (the page reloads). The page reads
  // it by itself (every 5 s, a stream opened, after a save or a pop): not
  // use of the session.
  async function readState() {
    const r = await api("GET", "/api/v1/console/state", undefined, POLL);
    if (r.status !== 200 || !r.json) return null;
    if (r.json.operator && r.json.operator.id !== OP) { location.reload(); return null; }
    return r.json;
  }
  async function load() {
    const seq = pops, sseq = streamStates;
    const st = await readState();
    if (!st) return;
    if (sseq === streamStates) renderState(st.state);
    if (seq !== pops) { renderRecent(st.recent); return; } // a pop came meanwhile: it is newer than this call
    // An earlier call the operator opened stays on screen (a reconnect
    // reads the state again); a new call, seen as a pop or here, replaces
    // it: the stream does not replay a pop it missed while down.
    const latest = st.call && st.call.pop.call_id;
    const missed = !!latest && latestPop !== null && latest !== latestPop;
    if (latest && latest !== latestPop) { pinned = false; latestPop = latest; }
    if (!pinned || !call) renderCall(st.call);
    renderRecent(st.recent); // after the above: its way back names the current call
    return missed;
  }

  // The operator's earlier calls: a message not saved when the next call
  // came stays one click away (its draft is kept per call).
  let recentList = [];
  function renderRecent(list) {
    recentList = list || [];
    const ul = $("recent-list");
    ul.replaceChildren();
    if (pinned && latestPop && call && call.pop.call_id !== latestPop) {
      // An earlier call is open: the current one (its message unsaved,
      // its wrap-up held for it) is one press away, not lost until a reload.
      const li = el("li");
      const b = el("button", M.back_to_current);
      b.type = "button"; b.dataset.call = latestPop; b.id = "btn-current";
      b.addEventListener("click", () => openCall(latestPop, false));
      li.appendChild(b);
      ul.appendChild(li);
    }
    for (const rc of recentList) {
      const li = el("li");
      const t = new Date(rc.at).toLocaleTimeString("ja-JP", { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit" });
      const b = el("button", t + " " + rc.client_name + " " + rc.caller_display);
      b.type = "button"; b.dataset.call = rc.call_id;
      b.addEventListener("click", () => openCall(rc.call_id));
      li.appendChild(b);
      // Settled by a message, or by its class (a sales call needs none).
      const mark = rc.class ? (M["class_" + rc.class] || rc.class) : rc.saved ? M.saved_mark : M.unsaved;
      li.appendChild(el("span", " " + mark, rc.saved ? "saved" : "unsaved"));
      ul.appendChild(li);
    }
    $("recent").hidden = !ul.children.length;
  }
  async function refreshRecent() {
    const st = await readState();
    if (st) renderRecent(st.recent);
  }
  // Callback requests of the clients the operator serves: work to do
  // between calls, done with one press.
  async function pollCallbacks() {
    const r = await api("GET", "/api/v1/console/callbacks", undefined, POLL);
    if (r.status !== 200 || !r.json) return;
    const tb = $("callbacks");
    const post = async (cb, what) => {
      const d = await api("POST", "/api/v1/console/callbacks/" + encodeURIComponent(cb.id) + "/" + what);
      // 409: done, or taken by another, meanwhile; the refresh shows it.
      const taken = d.status === 409 && d.json && String(d.json.error || "").startsWith("taken");
      $("cb-status").textContent = d.status === 200 ? "" : taken ? M.cb_taken : d.status === 409 ? M.cb_done_already : M.control_failed;
      await pollCallbacks();
    };
    window.toritsugiCallbacks(tb, r.json.callbacks || [], M, (cb) => post(cb, "done"), (cb) => post(cb, "claim"));
    // An empty list hides the box; the focus, if it was there (the last
    // one was done), goes to what the page shows next.
    const had = $("cb-box").contains(document.activeElement);
    $("cb-box").hidden = !tb.children.length;
    if (had && $("cb-box").hidden) ($("no-call").hidden ? document.querySelector("#pop h2") : $("no-call")).focus();
  }
  setInterval(pollCallbacks, 15000);

  let pinned = false;     // the operator opened an earlier call
  let latestPop = null;   // the newest call popped, as far as this page knows
  async function openCall(id, earlier = true) {
    const seq = pops;
    const r = await api("GET", "/api/v1/console/calls/" + encodeURIComponent(id));
    // A call that popped while this was on its way is the one on the
    // line: it stays on screen (the earlier call is one press away).
    if (seq !== pops) return;
    if (r.status === 200 && r.json) { pinned = earlier; renderCall(r.json); renderRecent(recentList); }
  }

  // ---- events ----
  // The stream pings every 15 s. A stream that stopped (closed for good
  // after a non-200 answer such as the proxy's 502 during a restart, or
  // half-open after the network changed) is replaced, and the state read
  // again (which sends an expired session to the login page), so that no
  // screen pop is lost while the softphone rings.
  const STREAM_SILENT_MS = 35000;
  let es = null;
  let heard = 0;
  // Reconnects back off (5 s, 10 s, 15 s) while the server keeps refusing
  // (shutting down: 503), and start over on a hello; never more
  // than 15 s, so that a restart's gap costs no pop for long.
  let retryIn = 5000, nextTry = 0;
  function connect() {
    if (es) es.close();
    heard = Date.now();
    es = new EventSource("/api/v1/console/events");
    const seen = () => { heard = Date.now(); };
    es.addEventListener("state", (e) => { seen(); streamStates++; renderState(JSON.parse(e.data)); });
    es.addEventListener("pop", (e) => {
      seen(); pinned = false; pops++;
      const cv = JSON.parse(e.data);
      latestPop = cv && cv.pop ? cv.pop.call_id : latestPop;
      renderCall(cv); refreshRecent();
    });
    es.addEventListener("saved", (e) => { seen(); noteSaved(JSON.parse(e.data)); });
    es.addEventListener("ping", seen);
    es.addEventListener("hello", () => { seen(); retryIn = 5000; $("conn").hidden = true; });
    es.addEventListener("error", () => { $("conn").hidden = false; });
    es.addEventListener("open", () => { seen(); load(); });
  }
  setInterval(() => {
    if ((es.readyState === EventSource.CLOSED || Date.now() - heard > STREAM_SILENT_MS) && Date.now() >= nextTry) {
      $("conn").hidden = false;
      nextTry = Date.now() + retryIn;
      retryIn = Math.min(retryIn * 2, 15000);
      load();
      connect();
    }
  }, 5000);
  // The stream can look alive and still lose a pop (a connection left
  // half-open by a network change: its pings stop only after a while).
  // The current call is read every 5 s; a call the stream did not bring
  // is shown at once, and the stream replaced.
  // Only the state is read and shown (a call ringing: its banner over the
  // last screen, faded; nothing on screen is rebuilt: the focus stays
  // where the operator has it), also before the first call of a shift; a
  // call the stream has not brought in two reads in a row (its pop may
  // merely be a moment behind the first) is shown, and the stream
  // replaced. A read answered sends the saves the network lost.
  let unseen = null;
  setInterval(async () => {
    const seq = pops, sseq = streamStates;
    const st = await readState();
    if (st) retryPending();
    if (!st || seq !== pops) { unseen = null; return; }
    if (sseq === streamStates) renderState(st.state);
    const latest = st.call && st.call.pop.call_id;
    // A message saved on another page for the call shown, whose "saved"
    // event a silently dead stream did not bring.
    if (latest && call && call.pop.call_id === latest) {
      for (const i of st.call.intakes || []) if (i.call_id === latest) noteSaved({ call_id: latest, intake: i });
    }
    if (!latest || latest === latestPop) { unseen = null; return; }
    if (unseen !== latest) { unseen = latest; return; }
    unseen = null;
    $("conn").hidden = false;
    await load();
    connect();
  }, 5000);
  connect();
  load();
  pollCallbacks();
  showPending();
  retryPending();
})();
