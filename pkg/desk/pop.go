package desk

import (
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/intake"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Connected pushes the screen pop to the operator who just got the call.
func (d *Desk) Connected(c call.Connected) {
	if c.Client != nil && c.Client.ID == c.ClientID {
		// As the call knew it: should a reload remove the client (while
		// its caller waited, or while the operator talks or writes the
		// message), the operator still answers in its name and takes and
		// relays its message. A copy: c.Client points into its
		// configuration's Clients, which would keep every client of it.
		cl, at := *c.Client, c.At
		if at.IsZero() {
			at = d.now()
		}
		d.retired.add(&cl, at)
		d.popped.add(c.CallID, &cl, at)
	}
	if d.Console == nil {
		return
	}
	p := console.ScreenPop{
		CallID: c.CallID, OperatorID: c.OperatorID, ClientID: c.ClientID, CallerNumber: c.CallerNumber,
		CallerDisplay: phone.ParseCallerID(c.CallerNumber).Display(), KnownName: c.KnownName,
		WaitedMS: c.Waited.Milliseconds(), At: c.At, CallerClass: d.callerClass(c),
	}
	if cl, ok := d.client(c.ClientID); ok {
		p.ClientName, p.GreetingText, p.Manual = cl.Name, cl.GreetingText, cl.Manual
		if p.GreetingText == "" {
			p.GreetingText = cl.Script().GreetingLine(cl.Name)
		}
	}
	// Earlier messages from the number are listed by the console with the
	// call (console.callFor: with their relay status and a correction
	// button); listed here too, each showed twice.
	d.Console.Pop(p)
}

// callerClass is what the call says of its caller (intake.CallerClasses),
// decided once, as the call is put through: the pop keeps it, and the
// call's message is checked and kept with it, whatever the caller rules
// or the messages from the number become meanwhile (the message saved
// for this very call makes the next call from the number a repeat, not
// this one).
func (d *Desk) callerClass(c call.Connected) string {
	cid := phone.ParseCallerID(c.CallerNumber)
	switch {
	case c.VIP:
		return intake.CallerVIP
	case c.Known:
		return intake.CallerKnown
	case cid.Kind != phone.Number: // no caller rule matches these
		return intake.CallerWithheld
	case d.messageFrom(c.ClientID, cid):
		return intake.CallerRepeat
	}
	return intake.CallerNew
}

// messageFrom reports whether client clientID has a message saved from
// the number, as the console lists them with the call. A store that
// cannot say counts as none: the caller is asked as a new one.
func (d *Desk) messageFrom(clientID string, cid phone.CallerID) bool {
	if d.Store == nil {
		return false
	}
	ins, err := d.Store.IntakesForNumbers(cid.Spellings(), 1, func(in store.Intake) bool { return in.ClientID == clientID })
	if err != nil {
		d.Logger.Warn("the messages from the caller's number could not be read: asked as a new caller", "client", clientID, "error", err)
		return false
	}
	return len(ins) > 0
}
