package lang

import (
	"fmt"
	"strings"
)

// Source is a script's text and the name errors call it by ("stdin" for -e
// and standard input, the path for files).
type Source struct {
	Name string
	Text string
}

// Line returns the text of 1-based line n without its newline.
func (s *Source) Line(n int) string {
	lines := strings.Split(s.Text, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

// Error is a problem in a script at a known place. It renders the way
// bpftrace does:
//
//	stdin:1:14-20: ERROR: unknown builtin 'pdi' — did you mean 'pid'?
//	BEGIN { printf("%d", pdi); }
//	                     ~~~
type Error struct {
	Src  *Source
	Span Span
	Msg  string
	// Warning renders the message as a WARNING instead of an ERROR.
	Warning bool
}

func (e *Error) Error() string {
	var b strings.Builder
	level := "ERROR"
	if e.Warning {
		level = "WARNING"
	}
	name := "stdin"
	if e.Src != nil {
		name = e.Src.Name
	}
	st, en := e.Span.Start, e.Span.End
	if st.Line == 0 {
		fmt.Fprintf(&b, "%s: %s: %s", name, level, e.Msg)
		return b.String()
	}
	if en.Line == st.Line && en.Col > st.Col {
		fmt.Fprintf(&b, "%s:%d:%d-%d: %s: %s", name, st.Line, st.Col, en.Col, level, e.Msg)
	} else {
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s", name, st.Line, st.Col, level, e.Msg)
	}
	if e.Src == nil {
		return b.String()
	}
	line := e.Src.Line(st.Line)
	b.WriteString("\n")
	b.WriteString(line)
	b.WriteString("\n")
	width := 1
	if en.Line == st.Line && en.Col > st.Col {
		width = en.Col - st.Col
	} else if en.Line > st.Line {
		width = len(line) - st.Col + 1
	}
	if width < 1 {
		width = 1
	}
	// Keep tabs in the indentation so the marker lines up under the text.
	for i := 0; i < st.Col-1 && i < len(line); i++ {
		if line[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	for i := len(line); i < st.Col-1; i++ {
		b.WriteByte(' ')
	}
	b.WriteString(strings.Repeat("~", width))
	return b.String()
}

// Errorf makes an Error at the span of node n.
func Errorf(src *Source, n Spanned, format string, args ...any) *Error {
	return &Error{Src: src, Span: n.NodeSpan(), Msg: fmt.Sprintf(format, args...)}
}

// ErrorList is every error found in one pass, in source order.
type ErrorList []*Error

// maxShownErrors bounds how many errors one message renders: a script of
// 10,000 '-' in a row made 5,000 errors, each printing its long source line,
// a hundred megabytes of text.
const maxShownErrors = 20

func (l ErrorList) Error() string {
	n := min(len(l), maxShownErrors)
	parts := make([]string, n, n+1)
	for i, e := range l[:n] {
		parts[i] = e.Error()
	}
	if len(l) > n {
		parts = append(parts, fmt.Sprintf("ERROR: %d more errors not shown", len(l)-n))
	}
	return strings.Join(parts, "\n")
}

// Err returns nil for an empty list, so callers can `return errs.Err()`.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
