package lang

import "fmt"

// This file is the one definition of printf format strings, shared by the
// checker (argument types) and runtime/output (formatting).

// formatTypes are the conversions bpftrace 0.17 accepts (its
// printf_format_types), with the argument type each expects.
var formatTypes = func() map[string]string {
	t := map[string]string{"s": "string", "r": "buffer", "rx": "buffer", "c": "integer", "i": "integer"}
	for _, l := range []string{"", "hh", "h", "l", "ll", "j", "z", "t"} {
		for _, s := range []string{"d", "u", "o", "x", "X", "p"} {
			t[l+s] = "integer"
		}
	}
	return t
}()

// FormatSpec is one specifier found by bpftrace's regex
// %-?[0-9]*(\.[0-9]+)?(types): format[start:end], conversion conv.
type FormatSpec struct {
	Start, End int
	Conv       string
}

// matchSpec tries the regex at format[i] (a '%').
func matchFormatSpec(format string, i int) (FormatSpec, bool) {
	j := i + 1
	if j < len(format) && format[j] == '-' {
		j++
	}
	for j < len(format) && isDigit(format[j]) {
		j++
	}
	if j+1 < len(format) && format[j] == '.' && isDigit(format[j+1]) {
		j++
		for j < len(format) && isDigit(format[j]) {
			j++
		}
	}
	// The alternatives are tried in hash-table order; only "r"/"rx"
	// overlap, and bpftrace 0.17 picks "rx".
	best := ""
	for n := 1; n <= 3 && j+n <= len(format); n++ {
		if _, ok := formatTypes[format[j:j+n]]; ok {
			best = format[j : j+n]
		}
	}
	if best == "" {
		return FormatSpec{}, false
	}
	return FormatSpec{Start: i, End: j + len(best), Conv: best}, true
}

// FormatSpecs returns the specifiers bpftrace finds in format, left to right.
func FormatSpecs(format string) []FormatSpec {
	var out []FormatSpec
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		if s, ok := matchFormatSpec(format, i); ok {
			out = append(out, s)
			i = s.End - 1
		}
	}
	return out
}

// CheckFormat checks printf-style arguments like bpftrace's semantic
// analyser. fn is the function ("printf", "system", "cat"); argTypes are
// "integer", "string", "buffer" or "tuple". Messages read like bpftrace's,
// e.g. "printf: %d specifier expects a value of type integer (string supplied)".
func CheckFormat(fn, format string, argTypes []string) error {
	ss := FormatSpecs(format)
	if len(argTypes) < len(ss) {
		return fmt.Errorf("%s: Not enough arguments for format string (%d supplied, %d expected)", fn, len(argTypes), len(ss))
	}
	if len(argTypes) > len(ss) {
		return fmt.Errorf("%s: Too many arguments for format string (%d supplied, %d expected)", fn, len(argTypes), len(ss))
	}
	for i, s := range ss {
		if want := formatTypes[s.Conv]; argTypes[i] != want {
			return fmt.Errorf("%s: %%%s specifier expects a value of type %s (%s supplied)", fn, s.Conv, want, argTypes[i])
		}
	}
	return nil
}
