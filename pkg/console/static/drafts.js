// Message drafts: the console keeps each call's unsaved message in
// localStorage under toritsugi.draft.<operator>.<call>, a correction being
// typed under toritsugi.draft.<operator>.fix.<message>, and a save still
// waiting to be sent (its answer lost on the network) under
// toritsugi.draft.<operator>.pending.<request id>. Logging out, from the
// console or the wallboard, leaves no caller data behind on a shared
// computer: every draft goes once the server has ended the session, but
// another operator's saves still waiting: those are that operator's
// callers' messages, sent when they log in here again (within a day).
"use strict";
window.toritsugiDrafts = {
  prefix: "toritsugi.draft.",
  // othersWaiting reports whether d, a value kept under the prefix, is a
  // save still waiting to be sent of an operator other than op.
  othersWaiting(d, op) {
    return !!d && !!d.body && typeof d.op === "string" && d.op !== op;
  },
  // pending lists op's saves still waiting to be sent, {k, d} oldest
  // first (their keys begin with op's prefix, which also begins those of
  // an operator "op.pending": each names its operator).
  pending(op) {
    const mine = window.toritsugiDrafts.prefix + op + ".pending.";
    const out = [];
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith(mine)) continue;
      try { const d = JSON.parse(localStorage.getItem(k)); if (d && d.body && d.op === op) out.push({ k, d }); } catch (e) { /* pruned */ }
    }
    return out.sort((a, b) => a.d.at - b.d.at);
  },
  // waiting counts them.
  waiting(op) {
    return window.toritsugiDrafts.pending(op).length;
  },
  // clear removes every draft but other operators' saves still waiting.
  clear(op) {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith(window.toritsugiDrafts.prefix)) continue;
      let d = null;
      try { d = JSON.parse(localStorage.getItem(k)); } catch (e) { d = null; }
      if (!window.toritsugiDrafts.othersWaiting(d, op)) localStorage.removeItem(k);
    }
  },
  // logoutWith makes the page's logout form (a plain POST /logout without
  // script) log out through POST /api/v1/logout: post(path) sends it with
  // the page's token, taking the session's new one when a login in another
  // tab replaced it, and answers {status, json} (status 0: no answer).
  // The drafts go only once the server has ended the session (2xx), or
  // said there is none (401: logged out elsewhere, expired); then the
  // login page. Any other answer leaves everything as it was, and the
  // page's #logout-failed says so: pressing again tries again. The
  // saves still to send go too (caller data): while any waits, it is
  // asked first, on every page with a logout.
  logoutWith(form, op, post) {
    if (!form) return;
    const failed = document.getElementById("logout-failed");
    const M = JSON.parse(document.getElementById("i18n").textContent);
    let busy = false;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (busy) return;
      const n = window.toritsugiDrafts.waiting(op);
      if (n && !window.confirm(M.logout_pending.replace("{n}", n))) return;
      busy = true;
      if (failed) failed.hidden = true;
      let r = { status: 0, json: null };
      try { r = await post("/api/v1/logout"); } catch (e) { r = { status: 0, json: null }; }
      busy = false;
      if ((r.status >= 200 && r.status < 300) || r.status === 401) {
        window.toritsugiDrafts.clear(op);
        location.href = "/login?lang=" + encodeURIComponent(document.documentElement.lang || "ja");
        return;
      }
      if (failed) failed.hidden = false;
    });
  },
};
