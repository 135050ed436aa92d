package lang

import (
	"fmt"
	"strings"
	"unicode/utf8"
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

// Position is p as "line:column" for messages that point elsewhere in the
// script ("opened at 1:7"), the column counted in characters as in the
// rendered error.
func (s *Source) Position(p Pos) string {
	if s == nil || p.Offset < 0 || p.Offset > len(s.Text) {
		return p.String()
	}
	// Only the line's text up to p counts, found from the byte offset: a
	// script may make thousands of these messages.
	start := strings.LastIndexByte(s.Text[:p.Offset], '\n') + 1
	return fmt.Sprintf("%d:%d", p.Line, utf8.RuneCountInString(s.Text[start:p.Offset])+1)
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
	if e.Src == nil {
		// Without the text, byte columns are all there is.
		if en.Line == st.Line && en.Col > st.Col {
			fmt.Fprintf(&b, "%s:%d:%d-%d: %s: %s", name, st.Line, st.Col, en.Col, level, e.Msg)
		} else {
			fmt.Fprintf(&b, "%s:%d:%d: %s: %s", name, st.Line, st.Col, level, e.Msg)
		}
		return b.String()
	}
	line := e.Src.Line(st.Line)
	col := charColumn(line, st.Col)
	width := 1
	if en.Line == st.Line && en.Col > st.Col {
		endCol := charColumn(line, en.Col)
		width = endCol - col
		fmt.Fprintf(&b, "%s:%d:%d-%d: %s: %s", name, st.Line, col, endCol, level, e.Msg)
	} else {
		if en.Line > st.Line {
			width = utf8.RuneCountInString(line) - col + 1
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s", name, st.Line, col, level, e.Msg)
	}
	width = max(width, 1)
	b.WriteString("\n")
	b.WriteString(line)
	b.WriteString("\n")
	// One blank for each character before the span, so the marker lines
	// up under text with multibyte characters; tabs stay tabs.
	n := 0
	for _, r := range line {
		if n == col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		n++
	}
	b.WriteString(strings.Repeat(" ", col-1-n))
	b.WriteString(strings.Repeat("~", width))
	return b.String()
}

// charColumn turns byte column col of line (as Pos counts) into the
// character column a reader counts: "é→ x" has x at byte column 7 but
// character column 4. Columns past the end of the line (an error at the end
// of the input) count one each. bpftrace 0.17 prints byte columns and
// places its marker by bytes, so after multibyte text it points to the
// right of the culprit; gotrace counts characters in both.
func charColumn(line string, col int) int {
	if col < 1 {
		return 1
	}
	if col-1 <= len(line) {
		return utf8.RuneCountInString(line[:col-1]) + 1
	}
	return utf8.RuneCountInString(line) + col - len(line)
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
