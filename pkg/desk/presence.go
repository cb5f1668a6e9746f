package desk

import "github.com/toritsugi/toritsugi/pkg/store"

// Presence: what a console operator chose (available, or paused with a
// reason) is stored until they log out, and a restart restores it for the
// operators still logged in. Before, a restart left every console
// operator offline until each noticed and pressed 受付可 again, while the
// callers re-adopted in line waited and overflowed. What the routing core
// decides by itself (an auto-pause for unanswered rings, a wrap-up) is not
// kept: after a restart such an operator is available.

// keepPresence stores opID's choice; a failure is logged (the choice is
// in effect, only a restart would forget it).
func (d *Desk) keepPresence(opID string, p store.Presence) {
	if err := d.Store.PutPresence(opID, p); err != nil {
		d.Logger.Error("storing an operator's presence failed: a restart will not restore it", "operator", opID, "error", err)
	}
}

// RestorePresence gives the queue back what each console operator chose
// before the restart, for those still logged in (a stored session) and
// still configured as console operators; the others' choices are
// forgotten. Call it after the queue has its operators and before calls
// are re-adopted (an operator on a call re-adopted while offline is
// logged out after it). It returns how many it restored.
func (d *Desk) RestorePresence() (int, error) {
	saved, err := d.Store.Presences()
	if err != nil && len(saved) == 0 {
		return 0, err
	}
	loggedIn, serr := d.Store.SessionOperators()
	if serr != nil {
		return 0, serr
	}
	console := map[string]bool{}
	for _, op := range d.Config().Operators {
		console[op.ID] = op.PasswordHash != ""
	}
	n := 0
	for id, p := range saved {
		if !loggedIn[id] || !console[id] {
			if derr := d.Store.DeletePresence(id); derr != nil {
				d.Logger.Warn("forgetting the presence of an operator no longer logged in failed", "operator", id, "error", derr)
			}
			continue
		}
		if p.Paused {
			d.Queue.Pause(id, p.Reason)
		} else {
			d.Queue.SetAvailable(id)
		}
		d.Logger.Info("operator's presence restored", "operator", id, "paused", p.Paused, "reason", p.Reason, "since", p.Since)
		n++
	}
	return n, err
}
