package intake

import "strings"

// FieldType is the kind of answer a field takes.
type FieldType string

// Field types.
const (
	// TypeText is one line of free text.
	TypeText FieldType = "text"
	// TypeMultiline is free text over several lines.
	TypeMultiline FieldType = "multiline"
	// TypePhone is a telephone number, stored in E.164 form.
	TypePhone FieldType = "phone"
	// TypeChoice is one of the field's Choices, stored by Value.
	TypeChoice FieldType = "choice"
	// TypeDateTime is a date and time, stored as RFC 3339 in Japan time.
	TypeDateTime FieldType = "datetime"
	// TypeYesNo is a yes/no answer, stored as "yes" or "no".
	TypeYesNo FieldType = "yesno"
)

// fieldTypes lists the valid types in the order messages show them.
var fieldTypes = []FieldType{TypeText, TypeMultiline, TypePhone, TypeChoice, TypeDateTime, TypeYesNo}

// valid reports whether t is one of the field types.
func (t FieldType) valid() bool {
	for _, k := range fieldTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Scopes of reception, as clients buy them.
const (
	ScopeSimple   = "simple"
	ScopeStandard = "standard"
	ScopeGuided   = "guided"
	ScopeCustom   = "custom"
)

// scopes lists the valid scopes in the order messages show them.
var scopes = []string{ScopeSimple, ScopeStandard, ScopeGuided, ScopeCustom}

// TypeChoice is one option of a choice field.
type Choice struct {
	// Value is what is stored and what show_if conditions compare with.
	Value string `json:"value"`
	// Label is what the operator sees and what the read-back says.
	Label string `json:"label"`
}

// Cond makes a field depend on an earlier one, or on the caller: it has
// either Field and Equals, or Caller.
type Cond struct {
	// Field is the id of an earlier choice or yesno field.
	Field string `json:"field"`
	// Equals lists the values (choice values, or "yes"/"no") for which
	// the dependent field is shown.
	Equals []string `json:"equals"`
	// Caller lists the caller classes (CallerClasses) for which the
	// field is shown: the class of the call, decided as it is put through
	// to the operator (see ForCaller).
	Caller []string `json:"caller,omitempty"`
}

// Caller classes: what toritsugi knows of a caller when the call is put
// through to the operator. Each call has exactly one, decided then (by
// the desk) and kept with the call's screen pop and its message, in this
// order of precedence:
const (
	// CallerVIP: the number matched one of the client's caller rules
	// with action vip (the client has no transfer_to, or did not take
	// the transfer).
	CallerVIP = "vip"
	// CallerKnown: the number matched a caller rule with action known
	// (its name is shown to the operator).
	CallerKnown = "known"
	// CallerWithheld: no number came: 非通知 (withheld), 公衆電話
	// (payphone), 通知不可能 (unavailable), or one that is no number.
	CallerWithheld = "withheld"
	// CallerRepeat: the client has a message saved from this number (the
	// earlier messages the console lists with the call).
	CallerRepeat = "repeat"
	// CallerNew: a number, no caller rule, no message saved from it.
	CallerNew = "new"
)

// CallerClasses lists the caller classes in the order messages show them.
var CallerClasses = []string{CallerVIP, CallerKnown, CallerWithheld, CallerRepeat, CallerNew}

// Field is one question of the form.
type Field struct {
	// ID names the answer in Values and in read-back templates.
	ID string `json:"id"`
	// Label is the question as the operator sees it (お名前).
	Label string `json:"label"`
	// Type is the kind of answer.
	Type FieldType `json:"type"`
	// Required fields must be answered when they are shown.
	Required bool `json:"required,omitempty"`
	// Choices are the options of a choice field.
	Choices []Choice `json:"choices,omitempty"`
	// Help is a hint for the operator, such as what to say.
	Help string `json:"help,omitempty"`
	// ShowIf, when set, shows the field only when the condition holds.
	ShowIf *Cond `json:"show_if,omitempty"`
}

// choice returns the option with the given value.
func (f Field) choice(value string) (Choice, bool) {
	for _, c := range f.Choices {
		if c.Value == value {
			return c, true
		}
	}
	return Choice{}, false
}

// Script is a client's intake form.
type Script struct {
	// ID names the script in configuration.
	ID string `json:"id"`
	// Name is a title for admins and operators.
	Name string `json:"name"`
	// Scope is simple, standard, guided or custom.
	Scope string `json:"scope"`
	// Greeting is the line the operator says on answering; {client} stands
	// for the client's name (see GreetingLine).
	Greeting string `json:"greeting"`
	// Fields are the questions, in the order they are asked.
	Fields []Field `json:"fields"`
	// Closing is the line said before hanging up.
	Closing string `json:"closing,omitempty"`
	// ReadBack is the template of the read-back line (see the package
	// documentation); empty means a line listing every answer.
	ReadBack string `json:"read_back,omitempty"`

	// caller is the caller class ForCaller gave ("": not known).
	caller string
}

// ForCaller returns the script as it is asked of a caller of class caller
// (one of CallerClasses; "" when not known): Visible, Validate,
// ReadBackLine, Answers and Display then show a field with show_if caller
// only when the list names that class. A script not given a class shows
// none of those fields.
func (s Script) ForCaller(caller string) Script {
	s.caller = caller
	return s
}

// GreetingLine returns the greeting with {client} replaced by the client's
// name, as the operator says it.
func (s Script) GreetingLine(client string) string {
	return strings.ReplaceAll(s.Greeting, "{client}", client)
}

// field returns the field with the given id.
func (s Script) field(id string) (Field, bool) {
	for _, f := range s.Fields {
		if f.ID == id {
			return f, true
		}
	}
	return Field{}, false
}
