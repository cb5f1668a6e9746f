package asteriskconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrSyntax is wrapped by every *ParseError.
var ErrSyntax = errors.New("asterisk config syntax error")

// maxLine bounds one line of input.
const maxLine = 64 * 1024

// ParseError reports a syntax error at a line of a named file.
type ParseError struct {
	File string
	Line int
	Msg  string
}

// Error formats the error as file:line: message.
func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *ParseError) Unwrap() error { return ErrSyntax }

// File is a parsed configuration file.
type File struct {
	Name     string
	Sections []Section
	Includes []Include
}

// Section is one [name] block. A name may occur more than once (pjsip.conf
// names an endpoint, its auth and its aor alike).
type Section struct {
	Name     string
	Template bool     // declared with (!)
	Append   bool     // declared with (+): continues an earlier section
	Inherits []string // template names in parentheses, in order
	Line     int
	Entries  []Entry
}

// Entry is one key = value or key => value line.
type Entry struct {
	Key   string
	Value string
	Arrow bool // written with =>
	Line  int
}

// Include is a #include, #tryinclude or #exec directive.
type Include struct {
	Directive string // "include", "tryinclude" or "exec"
	Path      string
	Line      int
}

// Parse reads a configuration file. name is used in error messages.
func Parse(name string, r io.Reader) (*File, error) {
	p := parser{f: &File{Name: name}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			p.line++
			return nil, p.errorf("line longer than %d bytes", maxLine)
		}
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	if p.inBlock {
		return nil, &ParseError{File: name, Line: p.blockLine, Msg: "unterminated ;-- comment"}
	}
	return p.f, nil
}

type parser struct {
	f         *File
	line      int
	inBlock   bool
	blockLine int
}

func (p *parser) errorf(format string, args ...any) error {
	return &ParseError{File: p.f.Name, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parseLine(raw string) error {
	if strings.ContainsRune(raw, 0) {
		return p.errorf("NUL byte in line")
	}
	text := p.stripComments(raw)
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	switch text[0] {
	case '#':
		return p.directive(text)
	case '[':
		return p.header(text)
	}
	return p.entry(text)
}

// stripComments removes ; comments and ;-- --; blocks, keeping \; as ;.
func (p *parser) stripComments(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if p.inBlock {
			if strings.HasPrefix(raw[i:], "--;") {
				p.inBlock = false
				i += 2
			}
			continue
		}
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && raw[i+1] == ';':
			b.WriteByte(';')
			i++
		case c == ';' && strings.HasPrefix(raw[i:], ";--"):
			p.inBlock, p.blockLine = true, p.line
			i += 2
		case c == ';':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (p *parser) directive(text string) error {
	word, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(word, "\t\""); i >= 0 {
		word, rest = word[:i], word[i:]+" "+rest
	}
	switch word {
	case "include", "tryinclude", "exec":
	default:
		return p.errorf("unknown directive #%s", word)
	}
	path := strings.TrimSpace(rest)
	if len(path) >= 2 && (path[0] == '"' && path[len(path)-1] == '"' || path[0] == '<' && path[len(path)-1] == '>') {
		path = path[1 : len(path)-1]
	}
	if path == "" {
		return p.errorf("#%s without a file name", word)
	}
	p.f.Includes = append(p.f.Includes, Include{Directive: word, Path: path, Line: p.line})
	return nil
}

func (p *parser) header(text string) error {
	end := strings.IndexByte(text, ']')
	if end < 0 {
		return p.errorf("section header without ]")
	}
	name := strings.TrimSpace(text[1:end])
	if name == "" {
		return p.errorf("empty section name")
	}
	if strings.ContainsAny(name, "[") {
		return p.errorf("invalid section name %q", name)
	}
	s := Section{Name: name, Line: p.line}
	rest := strings.TrimSpace(text[end+1:])
	if rest != "" {
		if rest[0] != '(' || rest[len(rest)-1] != ')' {
			return p.errorf("unexpected %q after section header", rest)
		}
		for _, opt := range strings.Split(rest[1:len(rest)-1], ",") {
			opt = strings.TrimSpace(opt)
			switch opt {
			case "!":
				s.Template = true
			case "+":
				s.Append = true
			case "":
				return p.errorf("empty template name in section %q", name)
			default:
				if strings.ContainsAny(opt, "()[]") {
					return p.errorf("invalid template name %q", opt)
				}
				s.Inherits = append(s.Inherits, opt)
			}
		}
	}
	if s.Append && p.lookupBefore(name) == nil {
		return p.errorf("(+) for section %q that does not exist yet", name)
	}
	for _, tpl := range s.Inherits {
		if p.lookupBefore(tpl) == nil {
			return p.errorf("section %q inherits from %q, which is not defined above", name, tpl)
		}
	}
	p.f.Sections = append(p.f.Sections, s)
	return nil
}

func (p *parser) lookupBefore(name string) *Section {
	for i := range p.f.Sections {
		if p.f.Sections[i].Name == name {
			return &p.f.Sections[i]
		}
	}
	return nil
}

func (p *parser) entry(text string) error {
	eq := strings.IndexByte(text, '=')
	if eq < 0 {
		return p.errorf("expected key = value, got %q", text)
	}
	key := strings.TrimSpace(text[:eq])
	value := text[eq+1:]
	arrow := strings.HasPrefix(value, ">")
	if arrow {
		value = value[1:]
	}
	if key == "" {
		return p.errorf("missing key before =")
	}
	if len(p.f.Sections) == 0 {
		return p.errorf("%q outside any [section]", key)
	}
	s := &p.f.Sections[len(p.f.Sections)-1]
	s.Entries = append(s.Entries, Entry{Key: key, Value: strings.TrimSpace(value), Arrow: arrow, Line: p.line})
	return nil
}
