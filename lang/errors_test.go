package lang_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/require"
)

// TestErrorChunks runs the chunked error files in testdata/errors, in the
// style of starlark-go: each file holds cases separated by lines of "---";
// a case's expected error is written on the offending line as
//
//	// ### "regexp"
//
// The script (parse and check) must fail with an error on that line whose
// message matches the regexp. A case with no ### line must be accepted.
func TestErrorChunks(t *testing.T) {
	errorsTarget = testtarget.Recorded(t, "dev")
	files, err := filepath.Glob("testdata/errors/*.gt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	want := regexp.MustCompile(`// ### (".*")\s*$`)
	total := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		startLine := 1
		for _, chunk := range strings.Split(string(data), "\n---\n") {
			total++
			name := filepath.Base(file) + ":" + strconv.Itoa(startLine)
			lines := strings.Split(chunk, "\n")
			chunkStart := startLine
			startLine += len(lines) + 1
			t.Run(name, func(t *testing.T) {
				expLine, expRe := 0, ""
				for i, l := range lines {
					if m := want.FindStringSubmatch(l); m != nil {
						// The pattern is the text between the quotes, as is.
						expLine, expRe = i+1, m[1][1:len(m[1])-1]
					}
				}
				src := &lang.Source{Name: "stdin", Text: chunk}
				err := checkScript(src)
				if expRe == "" {
					require.NoError(t, err, "case at %s should be accepted", name)
					return
				}
				require.Error(t, err, "case at %s:%d should fail matching %q", file, chunkStart+expLine-1, expRe)
				first := firstError(err)
				require.NotNil(t, first, "want a positioned *lang.Error, got %T: %v", err, err)
				require.Equal(t, expLine, first.Span.Start.Line, "error on the wrong line: %v", err)
				require.Regexp(t, expRe, first.Msg)
				// Every error renders with its source line and a marker.
				require.Regexp(t, `^stdin:\d+:\d+(-\d+)?: ERROR: .*\n.*\n *~+$`, first.Error())
			})
		}
	}
	t.Logf("%d error cases", total)
}

// errorsTarget is the machine the error cases are checked for: the
// development VM's kernel, as recorded (no kprobes, no fentry).
var errorsTarget target.Target

func checkScript(src *lang.Source) error {
	prog, err := lang.Parse(src)
	if err != nil {
		return err
	}
	_, err = lang.Check(prog, src, &lang.Env{Target: errorsTarget, Args: []string{"42", "str"}})
	return err
}

func firstError(err error) *lang.Error {
	var list lang.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return list[0]
	}
	var e *lang.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
