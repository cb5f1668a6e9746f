package desk

import (
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/phone"
)

// historyLimit is how many earlier intakes from the same number the screen
// pop shows.
const historyLimit = 10

// Connected pushes the screen pop to the operator who just got the call.
func (d *Desk) Connected(c call.Connected) {
	if d.Console == nil {
		return
	}
	p := console.ScreenPop{
		CallID: c.CallID, OperatorID: c.OperatorID, ClientID: c.ClientID, CallerNumber: c.CallerNumber,
		CallerDisplay: phone.ParseCallerID(c.CallerNumber).Display(), KnownName: c.KnownName,
		WaitedMS: c.Waited.Milliseconds(), At: c.At,
	}
	if cl, ok := d.Config().Client(c.ClientID); ok {
		p.ClientName, p.GreetingText, p.Manual = cl.Name, cl.GreetingText, cl.Manual
		if p.GreetingText == "" {
			p.GreetingText = cl.Script().GreetingLine(cl.Name)
		}
	}
	op, _ := d.Config().Operator(c.OperatorID)
	if c.CallerNumber != "" && op != nil {
		earlier, err := d.Store.IntakesForCaller(c.CallerNumber, historyLimit)
		if err != nil {
			d.Logger.Warn("reading the caller's history failed", "error", err)
		}
		for _, in := range earlier {
			if !op.Serves(in.ClientID) {
				continue // another client's business: not this operator's to see
			}
			summary := in.Values["purpose"]
			if summary == "" {
				summary = in.ReadBack
			}
			p.History = append(p.History, console.HistoryItem{At: in.CreatedAt, Result: in.ClientID, Summary: summary})
		}
	}
	d.Console.Pop(p)
}
