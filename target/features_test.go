package target

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's table of kernel features is this package's table: every
// feature is there, with the first Linux version that has it.
func TestREADMEListsEveryFeature(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(data)
	for _, f := range Features() {
		since := f.Since()
		if since == "" {
			since = "(config|hardware|probed)"
		}
		require.Regexp(t, "(?m)^\\| `"+f.String()+"` \\| "+since+" \\|", readme, "README's kernel table misses %s", f)
	}
	require.Equal(t, len(Features()), strings.Count(readme[strings.Index(readme, "## Kernels"):strings.Index(readme, "## How gotrace differs")], "\n| `"))
}
