package lang_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/require"
)

// TestErrorChunks runs the chunked error files in testdata/errors, in the
// style of starlark-go's internal/chunkedfile: each file holds cases
// separated by lines of "---". An expected error is a marker line right
// under the line it is on, drawn the way gotrace renders it, followed by
// the regexp its message must match:
//
//	BEGIN { printf("é→ %d\n", pdi); }
//	                          ~~~ ### "unknown builtin 'pdi'"
//
// Marker lines are taken out of the script before it is parsed and checked.
// Every error the script gets must be expected, in order, with its line,
// its column range (in characters) and its rendered marker; an expected
// error that never comes fails too. A case with no marker line must be
// accepted.
func TestErrorChunks(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.gt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	total := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		chunks, bad := readChunks(file, string(data))
		// "// target: NAME" on a file's first line checks its cases for
		// testdata/targets/NAME instead of the development kernel.
		if name, ok := strings.CutPrefix(strings.SplitN(string(data), "\n", 2)[0], "// target: "); ok {
			for _, c := range chunks {
				c.target = strings.TrimSpace(name)
			}
		}
		for _, p := range bad {
			t.Error(p)
		}
		for _, c := range chunks {
			total++
			t.Run(fmt.Sprintf("%s:%d", filepath.Base(file), c.fileLine), func(t *testing.T) {
				for _, p := range c.problems() {
					t.Error(p)
				}
			})
		}
	}
	t.Logf("%d error cases", total)
}

// TestErrorChunkHarness makes sure the harness fails a chunk for each way
// it can be wrong, so that a passing TestErrorChunks means something.
func TestErrorChunkHarness(t *testing.T) {
	for _, tc := range []struct {
		chunk    string
		problems []string // regexps, one for each problem, in order
	}{
		{"BEGIN { @x = pdi; }\n             ~~~ ### \"unknown builtin 'pdi'\"", nil},
		{"BEGIN { @x = pdi; }", []string{`^t\.gt:1: unexpected error:\nstdin:1:14-17: ERROR: unknown builtin 'pdi'`}},
		{"BEGIN { exit(); }\n        ~~~~~~ ### \"never\"", []string{`^t\.gt:2: expected an error matching "never" on the line above, got none$`}},
		{"BEGIN { @x = pdi; }\n             ~~~ ### \"unknown function\"", []string{`^t\.gt:2: error "unknown builtin 'pdi'.*" does not match "unknown function"$`}},
		{"BEGIN { @x = pdi; }\n              ~~~ ### \"pdi\"", []string{`^t\.gt:2: error rendered as\nstdin:1:14-17: .*\n.*\n             ~~~\nwant \(as the marker line says\)\nstdin:1:15-18: `}},
		{"BEGIN { @x = pdi; }\n             ~~ ### \"pdi\"", []string{`want \(as the marker line says\)\nstdin:1:14-16: `}},
		// The marker is under the wrong line.
		{"BEGIN { @x = 1; }\n             ~ ### \"pdi\"\nEND { @x = pdi; }", []string{
			`^t\.gt:3: unexpected error:\nstdin:2:12-15: `,
			`^t\.gt:2: expected an error matching "pdi" on the line above, got none$`,
		}},
		// Two errors on one line need two marker lines.
		{"BEGIN { @x = pdi + pdu; }\n             ~~~ ### \"pdi\"", []string{`^t\.gt:1: unexpected error:\nstdin:1:20-23: ERROR: unknown builtin 'pdu'`}},
	} {
		chunks, bad := readChunks("t.gt", tc.chunk)
		require.Empty(t, bad)
		require.Len(t, chunks, 1)
		got := chunks[0].problems()
		require.Len(t, got, len(tc.problems), "%s: %q", tc.chunk, got)
		for i, re := range tc.problems {
			require.Regexp(t, re, got[i])
		}
	}
	_, bad := readChunks("t.gt", "BEGIN { @x = pdi; } // ### \"pdi\"\n---\n  ~~ ### \"x\"\n---\nBEGIN { }\n ~ ### \"(\"")
	require.Len(t, bad, 3)
	require.Regexp(t, `^t\.gt:1: ### outside a marker line`, bad[0])
	require.Regexp(t, `^t\.gt:3: marker line with no script line above it`, bad[1])
	require.Regexp(t, `^t\.gt:6: bad regexp`, bad[2])
}

// chunk is one case of a chunked error file.
type chunk struct {
	file      string
	target    string   // the recorded target it is checked for
	fileLine  int      // line of the file where the chunk starts
	script    []string // the script's lines, marker lines taken out
	fileLines []int    // the file line of each script line
	want      []wantError
}

// wantError is one expected error, written as a marker line.
type wantError struct {
	fileLine int    // where the marker line is in the file
	line     int    // the script line it is under (1-based)
	marker   string // the marker line as rendered: blanks, then ~
	msg      *regexp.Regexp
}

// markerLine is an expectation: blanks (tabs where the source line has
// them), at least one ~, then ### and the quoted regexp. The text between
// the quotes is taken as is, so \? means a literal '?'.
var markerLine = regexp.MustCompile(`^([ \t]*~+)[ \t]+### "(.*)"[ \t]*$`)

// readChunks splits a chunked file into its cases, and lists the lines
// that are not well-formed expectations.
func readChunks(file, data string) (chunks []*chunk, bad []string) {
	fileLine := 1
	for _, text := range strings.Split(data, "\n---\n") {
		c := &chunk{file: file, fileLine: fileLine}
		for i, l := range strings.Split(text, "\n") {
			at := fileLine + i
			m := markerLine.FindStringSubmatch(l)
			if m == nil {
				if strings.Contains(l, "###") {
					bad = append(bad, fmt.Sprintf("%s:%d: ### outside a marker line; write the expected error as a line of ~ under the culprit, then ### \"regexp\"", file, at))
				}
				c.script = append(c.script, l)
				c.fileLines = append(c.fileLines, at)
				continue
			}
			if len(c.script) == 0 {
				bad = append(bad, fmt.Sprintf("%s:%d: marker line with no script line above it", file, at))
				continue
			}
			re, err := regexp.Compile(m[2])
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s:%d: bad regexp: %v", file, at, err))
				continue
			}
			c.want = append(c.want, wantError{fileLine: at, line: len(c.script), marker: m[1], msg: re})
		}
		fileLine += strings.Count(text, "\n") + 2
		chunks = append(chunks, c)
	}
	return chunks, bad
}

// problems parses and checks the chunk's script and lists every way its
// errors differ from the expected ones.
func (c *chunk) problems() []string {
	src := &lang.Source{Name: "stdin", Text: strings.Join(c.script, "\n")}
	got, err := allErrors(checkScript(src, c.target))
	if err != nil {
		return []string{fmt.Sprintf("%s:%d: %v", c.file, c.fileLine, err)}
	}
	var out []string
	seen := make([]bool, len(c.want))
	for _, e := range got {
		// The next unmet expectation on the error's line.
		i := 0
		for ; i < len(c.want); i++ {
			if !seen[i] && c.want[i].line == e.Span.Start.Line {
				break
			}
		}
		if i == len(c.want) {
			at := c.fileLines[0]
			if l := e.Span.Start.Line; l >= 1 && l <= len(c.fileLines) {
				at = c.fileLines[l-1]
			}
			out = append(out, fmt.Sprintf("%s:%d: unexpected error:\n%v", c.file, at, e))
			continue
		}
		seen[i] = true
		w := c.want[i]
		if !w.msg.MatchString(e.Msg) {
			out = append(out, fmt.Sprintf("%s:%d: error %q does not match %q", c.file, w.fileLine, e.Msg, w.msg))
		}
		if p := c.checkRendering(w, e); p != "" {
			out = append(out, p)
		}
	}
	for i, w := range c.want {
		if !seen[i] {
			out = append(out, fmt.Sprintf("%s:%d: expected an error matching %q on the line above, got none", c.file, w.fileLine, w.msg))
		}
	}
	return out
}

// rendered is the first line of a rendered error up to its message.
var rendered = regexp.MustCompile(`^stdin:(\d+):(\d+)(?:-(\d+))?: ERROR: `)

// checkRendering checks the rendered error against the marker line: the
// position "stdin:L:C-E" counts characters and agrees with where the
// marker is (L is the line above it, C its first ~, E just past its last),
// and the snippet is that line with the marker under it, exactly as
// written in the file.
func (c *chunk) checkRendering(w wantError, e *lang.Error) string {
	out := e.Error()
	m := rendered.FindStringSubmatch(out)
	if m == nil {
		return fmt.Sprintf("%s:%d: rendered error does not start with stdin:LINE:COL: ERROR:\n%s", c.file, w.fileLine, out)
	}
	blanks := strings.TrimRight(w.marker, "~")
	col := utf8.RuneCountInString(blanks) + 1
	width := len(w.marker) - len(blanks)
	// A span that is empty or runs past its line renders as L:C only.
	at := fmt.Sprintf("stdin:%d:%d", w.line, col)
	if m[3] != "" {
		at += fmt.Sprintf("-%d", col+width)
	}
	want := at + ": ERROR: " + e.Msg + "\n" + c.script[w.line-1] + "\n" + w.marker
	if out != want {
		return fmt.Sprintf("%s:%d: error rendered as\n%s\nwant (as the marker line says)\n%s", c.file, w.fileLine, out, want)
	}
	return ""
}

// allErrors lists the positioned errors in err, which checkScript returns
// as one *lang.Error or a lang.ErrorList.
func allErrors(err error) ([]*lang.Error, error) {
	if err == nil {
		return nil, nil
	}
	var list lang.ErrorList
	if errors.As(err, &list) {
		return list, nil
	}
	var e *lang.Error
	if errors.As(err, &e) {
		return []*lang.Error{e}, nil
	}
	return nil, fmt.Errorf("want *lang.Error or lang.ErrorList, got %T: %v", err, err)
}

// errorsTarget is the recorded machine NAME the error cases are checked
// for; "" is the development VM's kernel (no kprobes, no fentry).
var errorsTargets sync.Map // name -> target.Target

func errorsTarget(name string) target.Target {
	if name == "" {
		name = "dev"
	}
	if t, ok := errorsTargets.Load(name); ok {
		return t.(target.Target)
	}
	r, err := target.LoadRecorded(filepath.Join(testtarget.Dir(), name))
	if err != nil {
		panic(err)
	}
	t, _ := errorsTargets.LoadOrStore(name, r)
	return t.(target.Target)
}

func checkScript(src *lang.Source, targetName string) error {
	prog, err := lang.Parse(src)
	if err != nil {
		return err
	}
	_, err = lang.Check(prog, src, &lang.Env{Target: errorsTarget(targetName), Args: []string{"42", "str"}})
	return err
}
