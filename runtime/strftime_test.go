package runtime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Every conversion Strftime knows, at one fixed time, as C's strftime (and
// bpftrace, which adds %f) prints it; an unknown one is kept as written.
func TestStrftime(t *testing.T) {
	at := time.Date(2026, time.March, 7, 15, 4, 5, 123456789, time.FixedZone("CET", 3600))
	for format, want := range map[string]string{
		"%Y-%m-%d %H:%M:%S.%f": "2026-03-07 15:04:05.123456",
		"%y %e %I %j %s":       "26  7 03 066 " + "1772892245",
		"%a %A %b %h %B":       "Sat Saturday Mar Mar March",
		"%p %Z %z":             "PM CET +0100",
		"%T|%R|%D|%F":          "15:04:05|15:04|03/07/26|2026-03-07",
		"%c":                   "Sat Mar  7 15:04:05 2026",
		"a%nb%tc%%d %q %":      "a\nb\tc%d %q %",
	} {
		require.Equal(t, want, Strftime(format, at), format)
	}
}
