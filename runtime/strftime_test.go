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
		"%Y-%m-%d %H:%M:%S.%f":                   "2026-03-07 15:04:05.123456",
		"%y %e %I %j %s":                         "26  7 03 066 " + "1772892245",
		"%a %A %b %h %B":                         "Sat Saturday Mar Mar March",
		"%p %Z %z":                               "PM CET +0100",
		"%T|%R|%D|%F":                            "15:04:05|15:04|03/07/26|2026-03-07",
		"%c":                                     "Sat Mar  7 15:04:05 2026",
		"a%nb%tc%%d %q %":                        "a\nb\tc%d %q %",
		"%C|%g|%G|%k|%l|%r|%u|%U|%V|%W|%w|%x|%X": "20|26|2026|15| 3|03:04:05 PM|6|09|10|09|6|03/07/26|15:04:05",
	} {
		require.Equal(t, want, Strftime(format, at), format)
	}
	// Around a new year, where ISO weeks and years part from the calendar
	// (glibc's strftime in the C locale gave these).
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2027, time.January, 1, 9, 4, 5, 0, time.UTC), "20|26|2026| 9| 9|09:04:05 AM|5|00|53|00|5|01/01/27|09:04:05"},
		{time.Date(2027, time.January, 3, 0, 4, 5, 0, time.UTC), "20|26|2026| 0|12|12:04:05 AM|7|01|53|00|0|01/03/27|00:04:05"},
	} {
		require.Equal(t, tc.want, Strftime("%C|%g|%G|%k|%l|%r|%u|%U|%V|%W|%w|%x|%X", tc.at), tc.at)
	}
}
