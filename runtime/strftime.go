package runtime

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Strftime formats t with a C strftime format, as time() and strftime()
// print. bpftrace adds %f (microseconds); unknown conversions are kept.
func Strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'C':
			fmt.Fprintf(&b, "%02d", t.Year()/100)
		case 'g', 'G':
			year, _ := t.ISOWeek()
			if format[i] == 'g' {
				fmt.Fprintf(&b, "%02d", year%100)
			} else {
				fmt.Fprintf(&b, "%d", year)
			}
		case 'V':
			_, week := t.ISOWeek()
			fmt.Fprintf(&b, "%02d", week)
		case 'k':
			fmt.Fprintf(&b, "%2d", t.Hour())
		case 'l':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%2d", h)
		case 'u':
			fmt.Fprintf(&b, "%d", (int(t.Weekday())+6)%7+1)
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case 'U': // weeks starting on Sunday; days before the first are week 0
			fmt.Fprintf(&b, "%02d", (t.YearDay()-1+7-int(t.Weekday()))/7)
		case 'W': // weeks starting on Monday
			fmt.Fprintf(&b, "%02d", (t.YearDay()-1+7-(int(t.Weekday())+6)%7)/7)
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 's':
			fmt.Fprintf(&b, "%d", t.Unix())
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			if layout, ok := goLayouts[format[i]]; ok {
				b.WriteString(t.Format(layout))
				break
			}
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// goLayouts are the strftime conversions that Go's time layouts spell.
var goLayouts = map[byte]string{
	'a': "Mon", 'A': "Monday", 'b': "Jan", 'h': "Jan", 'B': "January",
	'p': "PM", 'Z': "MST", 'z': "-0700",
	'T': "15:04:05", 'R': "15:04", 'D': "01/02/06", 'F': "2006-01-02",
	'c': "Mon Jan  2 15:04:05 2006", 'r': "03:04:05 PM",
	'x': "01/02/06", 'X': "15:04:05", // the C locale's
}

// monotonicToWall converts a CLOCK_MONOTONIC timestamp (nsecs) to wall time.
func monotonicToWall(ns uint64) time.Time {
	var mono unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	now := time.Now()
	return now.Add(-time.Duration(uint64(mono.Nano()) - ns))
}
