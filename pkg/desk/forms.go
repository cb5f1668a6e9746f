package desk

import (
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/intake"
)

// FormFor implements console.Forms from the client's intake script.
func (d *Desk) FormFor(clientID string) console.FormSpec {
	cl, ok := d.client(clientID)
	if !ok {
		return console.FormSpec{}
	}
	return FormSpec(cl.Script())
}

// FormSpec converts an intake script to the console's form description.
func FormSpec(s intake.Script) console.FormSpec {
	var f console.FormSpec
	for _, fl := range s.Fields {
		spec := console.FieldSpec{ID: fl.ID, Label: fl.Label, Type: string(fl.Type), Required: fl.Required}
		for _, c := range fl.Choices {
			spec.Choices = append(spec.Choices, console.Choice{Value: c.Value, Label: c.Label})
		}
		if fl.ShowIf != nil {
			spec.ShowIf = &console.ShowIf{Field: fl.ShowIf.Field, Equals: fl.ShowIf.Equals}
		}
		f.Fields = append(f.Fields, spec)
	}
	return f
}

// Validate implements console.Forms with the client's script.
func (d *Desk) Validate(clientID string, values map[string]string) (map[string]string, map[string]string, string) {
	cl, ok := d.client(clientID)
	if !ok {
		return nil, map[string]string{"": "unknown client"}, ""
	}
	r := cl.Script().Validate(intake.Values(values))
	return r.Values, r.Errors, r.ReadBack
}
