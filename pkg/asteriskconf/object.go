package asteriskconf

// Object is a section after inheritance: the entries of its templates first,
// then its own, then those of later (+) sections that continue it.
type Object struct {
	Name     string
	Template bool
	Line     int
	Entries  []Entry
}

// Get returns the value of the last entry named key.
func (o Object) Get(key string) (string, bool) {
	for i := len(o.Entries) - 1; i >= 0; i-- {
		if o.Entries[i].Key == key {
			return o.Entries[i].Value, true
		}
	}
	return "", false
}

// Type returns the value of "type", the object kind in pjsip.conf and ari.conf.
func (o Object) Type() string {
	v, _ := o.Get("type")
	return v
}

// Objects resolves inheritance and (+) continuations. A template is looked
// up by name among the sections before the one that names it, first match
// first, as Asterisk does.
func (f *File) Objects() []Object {
	objs := make([]Object, 0, len(f.Sections))
	for _, s := range f.Sections {
		if s.Append {
			if i := lastIndex(objs, s.Name); i >= 0 {
				objs[i].Entries = append(objs[i].Entries, s.Entries...)
				continue
			}
		}
		o := Object{Name: s.Name, Template: s.Template, Line: s.Line}
		for _, tpl := range s.Inherits {
			if i := firstIndex(objs, tpl); i >= 0 {
				o.Entries = append(o.Entries, objs[i].Entries...)
			}
		}
		o.Entries = append(o.Entries, s.Entries...)
		objs = append(objs, o)
	}
	return objs
}

// Lookup returns the non-template objects named name, in file order.
func (f *File) Lookup(name string) []Object {
	var out []Object
	for _, o := range f.Objects() {
		if o.Name == name && !o.Template {
			out = append(out, o)
		}
	}
	return out
}

func firstIndex(objs []Object, name string) int {
	for i := range objs {
		if objs[i].Name == name {
			return i
		}
	}
	return -1
}

func lastIndex(objs []Object, name string) int {
	for i := len(objs) - 1; i >= 0; i-- {
		if objs[i].Name == name {
			return i
		}
	}
	return -1
}
