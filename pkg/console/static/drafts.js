// Message drafts: the console keeps each call's unsaved message in
// localStorage under toritsugi.draft.<operator>.<call>, a correction being
// typed under toritsugi.draft.<operator>.fix.<message>, and a save still
// waiting to be sent (its answer lost on the network) under
// toritsugi.draft.<operator>.pending.<request id>. Logging out, from the
// console or the wallboard, leaves no caller data behind on a shared
// computer: clearOnLogout(form, op) removes every draft when form is sent,
// but another operator's saves still waiting: those are that operator's
// callers' messages, sent when they log in here again (within a day).
"use strict";
window.toritsugiDrafts = {
  prefix: "toritsugi.draft.",
  // othersWaiting reports whether d, a value kept under the prefix, is a
  // save still waiting to be sent of an operator other than op.
  othersWaiting(d, op) {
    return !!d && !!d.body && typeof d.op === "string" && d.op !== op;
  },
  clearOnLogout(form, op) {
    if (!form) return;
    form.addEventListener("submit", () => {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const k = localStorage.key(i);
        if (!k || !k.startsWith(window.toritsugiDrafts.prefix)) continue;
        let d = null;
        try { d = JSON.parse(localStorage.getItem(k)); } catch (e) { d = null; }
        if (!window.toritsugiDrafts.othersWaiting(d, op)) localStorage.removeItem(k);
      }
    });
  },
};
