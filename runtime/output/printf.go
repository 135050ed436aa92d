package output

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/lang"
)

// ValidateFormat checks printf-style arguments like bpftrace's semantic
// analyser; see lang.CheckFormat.
func ValidateFormat(fn, format string, args []Kind) error {
	names := make([]string, len(args))
	for i, k := range args {
		names[i] = k.TypeName()
	}
	return lang.CheckFormat(fn, format, names)
}

// Sprintf formats like bpftrace 0.17's printf (also used for system()
// and cat() paths). The format is cut after each specifier; each piece
// (the text before the specifier and the specifier) is formatted with C
// printf semantics and its argument as a 64-bit value; the text after the
// last specifier is copied verbatim. An argument count that does not
// match the specifiers is reported as an error, with the output bpftrace
// would print for the pieces it has.
func Sprintf(format string, args []Value) (string, error) {
	ss := lang.FormatSpecs(format)
	var parts []string
	last := 0
	for _, s := range ss {
		parts = append(parts, format[last:s.End])
		last = s.End
	}
	if last != len(format) {
		parts = append(parts, format[last:])
	}
	var b strings.Builder
	i := 0
	for ; i < len(args) && i < len(parts); i++ {
		part := parts[i]
		keepASCII := true
		if p := strings.LastIndexByte(part, '%'); p >= 0 {
			if f := part[p:]; f == "%r" || f == "%rx" {
				keepASCII = f == "%r"
				part = replaceR(part)
			}
		}
		b.WriteString(cstr(cformat(cstr(part), args[i], keepASCII)))
	}
	if i < len(parts) {
		b.WriteString(parts[i])
	}
	var err error
	if len(args) != len(ss) {
		err = fmt.Errorf("printf: %d arguments for %d format specifiers", len(args), len(ss))
	}
	return b.String(), err
}

// replaceR replaces every "%r" and "%rx" with "%s" (bpftrace's
// regex_replace(part, "%rx?", "%s")).
func replaceR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) && s[i+1] == 'r' {
			b.WriteString("%s")
			i++
			if i+1 < len(s) && s[i+1] == 'x' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cformat is C's snprintf(buf, size, f, arg) for one argument passed as a
// 64-bit value (or a string). Conversions after the one that takes the
// argument would read garbage in C; they are copied literally.
func cformat(f string, arg Value, keepASCII bool) string {
	var b strings.Builder
	used := false
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		start := i
		i++
		var fs fspec
		fs.prec = -1
	flags:
		for ; i < len(f); i++ {
			switch f[i] {
			case '-':
				fs.minus = true
			case '+':
				fs.plus = true
			case ' ':
				fs.space = true
			case '#':
				fs.alt = true
			case '0':
				fs.zero = true
			case '\'', 'I':
			default:
				break flags
			}
		}
		star := false
		for ; i < len(f) && (isDigit(f[i]) || f[i] == '*'); i++ {
			if f[i] == '*' {
				star = true
				continue
			}
			fs.width = fs.width*10 + int(f[i]-'0')
		}
		if i < len(f) && f[i] == '.' {
			i++
			fs.prec = 0
			for ; i < len(f) && (isDigit(f[i]) || f[i] == '*'); i++ {
				if f[i] == '*' {
					star = true
					continue
				}
				fs.prec = fs.prec*10 + int(f[i]-'0')
			}
		}
		lstart := i
		for i < len(f) && strings.IndexByte("hlLqjzZt", f[i]) >= 0 {
			i++
		}
		fs.length = f[lstart:i]
		if i >= len(f) {
			b.WriteString(f[start:])
			break
		}
		conv := f[i]
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if strings.IndexByte("diuoxXcsp", conv) < 0 || used || star {
			// unknown conversion (glibc prints it as is) or one with no
			// argument left
			b.WriteString(f[start : i+1])
			continue
		}
		used = true
		b.WriteString(fs.format(conv, arg, keepASCII))
	}
	return b.String()
}

type fspec struct {
	minus, plus, space, alt, zero bool
	width, prec                   int
	length                        string
}

func (fs *fspec) pad(s string, zeroOK bool) string {
	if len(s) >= fs.width {
		return s
	}
	n := fs.width - len(s)
	if fs.minus {
		return s + strings.Repeat(" ", n)
	}
	if zeroOK && fs.zero {
		// zeros go after the sign or 0x prefix
		p := 0
		if len(s) > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ') {
			p = 1
		}
		if len(s) >= p+2 && s[p] == '0' && (s[p+1] == 'x' || s[p+1] == 'X') {
			p += 2
		}
		return s[:p] + strings.Repeat("0", n) + s[p:]
	}
	return strings.Repeat(" ", n) + s
}

func argString(v Value, keepASCII bool) string {
	switch v.Kind {
	case KindBuf:
		return FormatBuffer([]byte(v.Str), keepASCII)
	case KindInt:
		return intText(v)
	}
	return cstr(v.text(valueIndent))
}

func (fs *fspec) format(conv byte, arg Value, keepASCII bool) string {
	raw := uint64(arg.Int)
	switch conv {
	case 's':
		s := argString(arg, keepASCII)
		if fs.prec >= 0 && fs.prec < len(s) {
			s = s[:fs.prec]
		}
		return fs.pad(s, false)
	case 'c':
		return fs.pad(string([]byte{byte(raw)}), false)
	case 'p':
		if raw == 0 {
			return fs.pad("(nil)", false)
		}
		return fs.pad("0x"+fs.digits(strconv.FormatUint(raw, 16)), fs.prec < 0)
	}
	// integer conversions: the 64-bit register read as the C type
	signed := conv == 'd' || conv == 'i'
	var mag uint64
	neg := false
	switch fs.length {
	case "hh":
		if signed {
			mag, neg = absInt(int64(int8(raw)))
		} else {
			mag = uint64(uint8(raw))
		}
	case "h":
		if signed {
			mag, neg = absInt(int64(int16(raw)))
		} else {
			mag = uint64(uint16(raw))
		}
	case "":
		if signed {
			mag, neg = absInt(int64(int32(raw)))
		} else {
			mag = uint64(uint32(raw))
		}
	default: // l, ll, q, L, j, z, Z, t: 64 bits
		if signed {
			mag, neg = absInt(int64(raw))
		} else {
			mag = raw
		}
	}
	var digits, prefix string
	switch conv {
	case 'o':
		digits = fs.digits(strconv.FormatUint(mag, 8))
		if fs.alt && !strings.HasPrefix(digits, "0") {
			digits = "0" + digits
		}
	case 'x', 'X':
		digits = fs.digits(strconv.FormatUint(mag, 16))
		if fs.alt && mag != 0 {
			prefix = "0x"
		}
		if conv == 'X' {
			digits = strings.ToUpper(digits)
			prefix = strings.ToUpper(prefix)
		}
	default:
		digits = fs.digits(strconv.FormatUint(mag, 10))
		switch {
		case neg:
			prefix = "-"
		case signed && fs.plus:
			prefix = "+"
		case signed && fs.space:
			prefix = " "
		}
	}
	return fs.pad(prefix+digits, fs.prec < 0)
}

// digits applies the precision (minimum digits) to an unsigned number.
func (fs *fspec) digits(d string) string {
	if fs.prec < 0 {
		return d
	}
	if fs.prec == 0 && d == "0" {
		return ""
	}
	if len(d) < fs.prec {
		return strings.Repeat("0", fs.prec-len(d)) + d
	}
	return d
}

func absInt(v int64) (uint64, bool) {
	if v < 0 {
		return -uint64(v), true
	}
	return uint64(v), false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
