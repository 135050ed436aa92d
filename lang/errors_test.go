package lang_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gotrace/gotrace/lang"
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
		for _, c := range readChunks(t, file, string(data)) {
			total++
			t.Run(fmt.Sprintf("%s:%d", filepath.Base(file), c.fileLine), c.run)
		}
	}
	t.Logf("%d error cases", total)
}

// chunk is one case of a chunked error file.
type chunk struct {
	file      string
	fileLine  int      // line of the file where the chunk starts
	script    []string // the script's lines, marker lines taken out
	fileLines []int    // the file line of each script line
	want      []*wantError
}

// wantError is one expected error, written as a marker line.
type wantError struct {
	fileLine int    // where the marker line is in the file
	line     int    // the script line it is under (1-based)
	marker   string // the marker line as rendered: blanks, then ~
	msg      *regexp.Regexp
	seen     bool
}

// markerLine is an expectation: blanks (tabs where the source line has
// them), at least one ~, then ### and the quoted regexp. The text between
// the quotes is taken as is, so \? means a literal '?'.
var markerLine = regexp.MustCompile(`^([ \t]*~+)[ \t]+### "(.*)"[ \t]*$`)

func readChunks(t *testing.T, file, data string) []*chunk {
	var chunks []*chunk
	fileLine := 1
	for _, text := range strings.Split(data, "\n---\n") {
		c := &chunk{file: file, fileLine: fileLine}
		for i, l := range strings.Split(text, "\n") {
			at := fileLine + i
			m := markerLine.FindStringSubmatch(l)
			if m == nil {
				if strings.Contains(l, "###") {
					t.Errorf("%s:%d: ### outside a marker line; write the expected error as a line of ~ under the culprit, then ### \"regexp\"", file, at)
				}
				c.script = append(c.script, l)
				c.fileLines = append(c.fileLines, at)
				continue
			}
			if len(c.script) == 0 {
				t.Errorf("%s:%d: marker line with no script line above it", file, at)
				continue
			}
			re, err := regexp.Compile(m[2])
			if err != nil {
				t.Errorf("%s:%d: bad regexp: %v", file, at, err)
				continue
			}
			c.want = append(c.want, &wantError{fileLine: at, line: len(c.script), marker: m[1], msg: re})
		}
		fileLine += strings.Count(text, "\n") + 2
		chunks = append(chunks, c)
	}
	return chunks
}

// rendered is the first line of a rendered error up to its message.
var rendered = regexp.MustCompile(`^stdin:(\d+):(\d+)(?:-(\d+))?: ERROR: `)

func (c *chunk) run(t *testing.T) {
	src := &lang.Source{Name: "stdin", Text: strings.Join(c.script, "\n")}
	got, err := allErrors(checkScript(src))
	require.NoError(t, err)
	for _, e := range got {
		at := fmt.Sprintf("%s:%d", c.file, c.fileLines[0])
		if l := e.Span.Start.Line; l >= 1 && l <= len(c.fileLines) {
			at = fmt.Sprintf("%s:%d", c.file, c.fileLines[l-1])
		}
		w := c.expected(e.Span.Start.Line)
		if w == nil {
			t.Errorf("%s: unexpected error:\n%v", at, e)
			continue
		}
		w.seen = true
		if !w.msg.MatchString(e.Msg) {
			t.Errorf("%s:%d: error %q does not match %q", c.file, w.fileLine, e.Msg, w.msg)
		}
		c.checkRendering(t, w, e)
	}
	for _, w := range c.want {
		if !w.seen {
			t.Errorf("%s:%d: expected an error matching %q on the line above, got none", c.file, w.fileLine, w.msg)
		}
	}
}

// expected takes the next unmet expectation on script line n.
func (c *chunk) expected(n int) *wantError {
	for _, w := range c.want {
		if !w.seen && w.line == n {
			return w
		}
	}
	return nil
}

// checkRendering checks the rendered error against the marker line: the
// position "stdin:L:C-E" counts characters and agrees with where the
// marker is (L is the line above it, C its first ~, E just past its last),
// and the snippet is that line with the marker under it, exactly as
// written in the file.
func (c *chunk) checkRendering(t *testing.T, w *wantError, e *lang.Error) {
	t.Helper()
	out := e.Error()
	m := rendered.FindStringSubmatch(out)
	if m == nil {
		t.Errorf("%s:%d: rendered error does not start with stdin:LINE:COL: ERROR:\n%s", c.file, w.fileLine, out)
		return
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
		t.Errorf("%s:%d: error rendered as\n%s\nwant (as the marker line says)\n%s", c.file, w.fileLine, out, want)
	}
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

func checkScript(src *lang.Source) error {
	prog, err := lang.Parse(src)
	if err != nil {
		return err
	}
	_, err = lang.Check(prog, src, &lang.Env{Args: []string{"42", "str"}})
	return err
}
