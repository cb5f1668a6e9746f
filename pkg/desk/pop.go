package desk

import (
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/phone"
)

// Connected pushes the screen pop to the operator who just got the call.
func (d *Desk) Connected(c call.Connected) {
	if c.Client != nil && c.Client.ID == c.ClientID {
		// As the call knew it: should a reload remove the client (while
		// its caller waited, or while the operator talks or writes the
		// message), the operator still answers in its name and takes and
		// relays its message.
		d.retired.add(c.Client)
		d.popped.add(c.CallID, c.Client)
	}
	if d.Console == nil {
		return
	}
	p := console.ScreenPop{
		CallID: c.CallID, OperatorID: c.OperatorID, ClientID: c.ClientID, CallerNumber: c.CallerNumber,
		CallerDisplay: phone.ParseCallerID(c.CallerNumber).Display(), KnownName: c.KnownName,
		WaitedMS: c.Waited.Milliseconds(), At: c.At,
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
