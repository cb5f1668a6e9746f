// Message drafts: the console keeps each call's unsaved message in
// localStorage under toritsugi.draft.<operator>.<call>, and a correction
// being typed under toritsugi.draft.<operator>.fix.<message>. Logging out, from
// the console or the wallboard, leaves no caller data behind on a shared
// computer: clearOnLogout(form) removes every draft when form is sent.
"use strict";
window.toritsugiDrafts = {
  prefix: "toritsugi.draft.",
  clearOnLogout(form) {
    if (!form) return;
    form.addEventListener("submit", () => {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const k = localStorage.key(i);
        if (k && k.startsWith(window.toritsugiDrafts.prefix)) localStorage.removeItem(k);
      }
    });
  },
};
