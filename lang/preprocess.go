package lang

import (
	"strings"
)

// preprocess handles the C preprocessor lines bpftrace scripts use, before
// lexing: #include (ignored: types come from BTF), #ifdef/#ifndef/#else/
// #endif (BPFTRACE_HAVE_BTF is defined, since gotrace reads kernel types
// from BTF), #define NAME value and #undef. Object-like macros are replaced
// in the lines that follow. Every removed line becomes spaces of the same
// length, so line numbers and byte offsets stay those of the file. Other directives are kept for
// the lexer to report.
func preprocess(text string) string { return preprocessWith(text, nil) }

// Include is an #include line the preprocessor takes (outside a skipped
// #ifdef branch): the header's name, whether it is "quoted" rather than
// <bracketed>, and where the name (with its delimiters) is.
type Include struct {
	Name   string
	Quoted bool
	Span   Span
}

// Includes lists the headers text includes, in the branches preprocess
// takes. gotrace does not read them (types come from BTF), but a missing
// one is an error, as in bpftrace.
func Includes(text string) []Include {
	var out []Include
	preprocessWith(text, func(inc Include) { out = append(out, inc) })
	return out
}

// preprocessWith is preprocess, calling include for each #include taken.
func preprocessWith(text string, include func(Include)) string {
	if !strings.Contains(text, "#") {
		return text
	}
	offset, lineStarts := 0, make([]int, 0, strings.Count(text, "\n")+1)
	for _, l := range strings.Split(text, "\n") {
		lineStarts = append(lineStarts, offset)
		offset += len(l) + 1
	}
	lines := strings.Split(text, "\n")
	defined := map[string]bool{"BPFTRACE_HAVE_BTF": true}
	macros := map[string]string{}
	// active[i] is whether the i-th enclosing #if branch is taken.
	var active []bool
	on := func() bool {
		for _, a := range active {
			if !a {
				return false
			}
		}
		return true
	}
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if i == 0 && strings.HasPrefix(trimmed, "#!") {
			lines[i] = blank(line)
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			fields := strings.Fields(strings.TrimPrefix(trimmed, "#"))
			dir, arg := "", ""
			if len(fields) > 0 {
				dir = fields[0]
			}
			if len(fields) > 1 {
				arg = fields[1]
			}
			handled := true
			switch dir {
			case "include":
				if include != nil && on() {
					if inc, ok := includeOf(line, i, lineStarts[i]); ok {
						include(inc)
					}
				}
			case "ifdef":
				active = append(active, defined[arg])
			case "ifndef":
				active = append(active, !defined[arg])
			case "else":
				if len(active) > 0 {
					active[len(active)-1] = !active[len(active)-1]
				}
			case "endif":
				if len(active) > 0 {
					active = active[:len(active)-1]
				}
			case "define":
				if on() && arg != "" && !strings.Contains(arg, "(") {
					defined[arg] = true
					// The value is the rest of the line after the name.
					rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(trimmed, "#")), "define"))
					macros[arg] = strings.TrimSpace(strings.TrimPrefix(rest, arg))
				} else if on() {
					handled = false
				}
			case "undef":
				if on() {
					delete(defined, arg)
					delete(macros, arg)
				}
			default:
				handled = false
			}
			if handled || !on() {
				lines[i] = blank(line)
			}
			continue
		}
		if !on() {
			lines[i] = blank(line)
			continue
		}
		if len(macros) > 0 {
			lines[i] = expandMacros(line, macros)
		}
	}
	return strings.Join(lines, "\n")
}

// expandMacros replaces whole identifiers that are macros, outside string
// literals and // comments.
func expandMacros(line string, macros map[string]string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case inString:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(line) {
				b.WriteByte(line[i+1])
				i += 2
				continue
			}
			if c == '"' {
				inString = false
			}
			i++
		case c == '"':
			inString = true
			b.WriteByte(c)
			i++
		case c == '/' && i+1 < len(line) && line[i+1] == '/':
			b.WriteString(line[i:])
			return b.String()
		case isIdentStart(c) && (i == 0 || !isPPIdentByte(line[i-1]) && line[i-1] != '$' && line[i-1] != '@'):
			j := i
			for j < len(line) && isPPIdentByte(line[j]) {
				j++
			}
			word := line[i:j]
			if v, ok := macros[word]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(word)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}
func isPPIdentByte(c byte) bool { return isIdentStart(c) || isDigit(c) }

func blank(line string) string { return strings.Repeat(" ", len(line)) }

// includeOf reads the header name of the #include on line i (0-based),
// which starts at byte offset start of the text.
func includeOf(line string, i, start int) (Include, bool) {
	open := strings.IndexAny(line, "<\"")
	if open < 0 {
		return Include{}, false
	}
	closer := byte('>')
	if line[open] == '"' {
		closer = '"'
	}
	end := strings.IndexByte(line[open+1:], closer)
	if end < 0 {
		return Include{}, false
	}
	col := open + 1
	return Include{Name: line[open+1 : open+1+end], Quoted: closer == '"', Span: Span{
		Start: Pos{Offset: start + open, Line: i + 1, Col: col},
		End:   Pos{Offset: start + open + end + 2, Line: i + 1, Col: col + end + 2},
	}}, true
}
