// The callback-request table of the operator console and the wallboard.
// Both refresh it every few seconds (15 s, 5 s); rebuilding it took the
// focus off the Done button a keyboard user was on (and made screen
// readers read the table again). Rows are kept in step with the list instead: a row whose
// request did not change stays in the page, focus and all; a row that
// goes (done, by this operator or another) hands the focus to the row
// that takes its place, or the one before, or the table's heading.
// Everything is written with textContent: names and numbers are data,
// never markup. onDone(cb) marks one done and onClaim(cb) takes one (the
// others see who calls back; a press while it runs is ignored); both
// refresh the list. M holds the labels (done, cb_claim, cb_mine,
// cb_theirs).
"use strict";
window.toritsugiCallbacks = function (tbody, callbacks, M, onDone, onClaim) {
  const who = (cb) => cb.mine ? M.cb_mine : cb.claimed_by ? M.cb_theirs.replace("{name}", cb.claimed_by) : "";
  const cells = (cb) => [cb.client_name || cb.client_id, cb.display, cb.requested, who(cb)];
  // The row is rebuilt when what it shows, or whose it is, changes.
  const sigOf = (cb) => JSON.stringify([cells(cb), !!cb.mine, cb.claimed_by || ""]);
  const button = (label, cls, run) => {
    const b = document.createElement("button");
    b.type = "button"; b.className = cls; b.textContent = label;
    // aria-disabled, not disabled, while the request runs: a disabled
    // button loses the focus, and the keyboard user their place.
    b.addEventListener("click", async () => {
      if (b.getAttribute("aria-disabled") === "true") return;
      b.setAttribute("aria-disabled", "true");
      try { await run(); } finally { b.removeAttribute("aria-disabled"); }
    });
    return b;
  };
  const build = (cb, sig) => {
    const tr = document.createElement("tr");
    tr.dataset.id = cb.id; tr.dataset.sig = sig;
    for (const t of cells(cb)) {
      const td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
    }
    const td = document.createElement("td");
    // Taking it is for one not taken (or one's own, to say one still is).
    if (onClaim && (!cb.claimed_by || cb.mine)) td.appendChild(button(M.cb_claim, "cb-claim", () => onClaim(cb)));
    td.appendChild(button(M.done, "cb-done", () => onDone(cb)));
    tr.appendChild(td);
    return tr;
  };
  const focused = document.activeElement;
  const focusRow = focused && tbody.contains(focused) ? focused.closest("tr") : null;
  // The same button of the next row (Done for Done), if it has one.
  const focusClass = focusRow && focused.className ? focused.className.split(" ")[0] : "";
  const focusAt = focusRow ? Array.prototype.indexOf.call(tbody.rows, focusRow) : -1;

  const old = new Map();
  for (const tr of Array.from(tbody.rows)) old.set(tr.dataset.id, tr);
  const keep = new Map();
  for (const cb of callbacks) {
    const sig = sigOf(cb);
    const tr = old.get(cb.id);
    if (tr && tr.dataset.sig === sig) keep.set(cb.id, tr);
  }
  for (const [id, tr] of old) if (keep.get(id) !== tr) tr.remove();
  // New rows are inserted around the kept ones, in the list's order; a
  // kept row moves only if the order changed (moving a node takes the
  // focus from it; the server lists requests oldest first).
  let next = tbody.firstElementChild;
  for (const cb of callbacks) {
    const tr = keep.get(cb.id) || build(cb, sigOf(cb));
    if (tr === next) { next = next.nextElementSibling; continue; }
    tbody.insertBefore(tr, next);
  }
  if (focusRow && !focusRow.isConnected) {
    const rows = tbody.rows;
    const row = rows[Math.min(focusAt, rows.length - 1)];
    const target = row ? (focusClass && row.querySelector("button." + focusClass)) || row.querySelector("button")
      : tbody.closest("section").querySelector("h2");
    if (target) target.focus();
  }
};
