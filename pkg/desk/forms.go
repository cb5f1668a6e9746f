package desk

import (
	"strings"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/intake"
)

// FormFor implements console.Forms from the client's intake script, as
// call callID popped with it.
func (d *Desk) FormFor(clientID, callID string) console.FormSpec {
	cl, ok := d.clientFor(clientID, callID)
	if !ok {
		return console.FormSpec{}
	}
	f := FormSpec(cl.Script())
	// As the greeting: {client} is the client's name.
	f.Closing = strings.ReplaceAll(f.Closing, "{client}", cl.Name)
	return f
}

// FormSpec converts an intake script to the console's form description:
// the questions with the hints the operator reads, and the closing line.
func FormSpec(s intake.Script) console.FormSpec {
	f := console.FormSpec{Closing: s.Closing}
	for _, fl := range s.Fields {
		spec := console.FieldSpec{ID: fl.ID, Label: fl.Label, Type: string(fl.Type), Required: fl.Required, Help: fl.Help}
		for _, c := range fl.Choices {
			spec.Choices = append(spec.Choices, console.Choice{Value: c.Value, Label: c.Label})
		}
		if fl.ShowIf != nil {
			spec.ShowIf = &console.ShowIf{Field: fl.ShowIf.Field, Equals: fl.ShowIf.Equals, Caller: fl.ShowIf.Caller}
		}
		f.Fields = append(f.Fields, spec)
	}
	return f
}

// Validate implements console.Forms with the client's script, as call
// callID popped with it, asked of a caller of class callerClass (the
// call's, as Connected decided it).
func (d *Desk) Validate(clientID, callID, callerClass string, values map[string]string) (map[string]string, map[string]string, string) {
	cl, ok := d.clientFor(clientID, callID)
	if !ok {
		return nil, map[string]string{"": "unknown client"}, ""
	}
	r := cl.Script().ForCaller(callerClass).Validate(intake.Values(values))
	return r.Values, r.Errors, r.ReadBack
}
