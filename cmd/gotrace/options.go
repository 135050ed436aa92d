package main

import (
	"fmt"
	"strconv"
	"strings"
)

// options are the command line's flags, parsed the way bpftrace parses them
// (GNU getopt_long): short flags combine (-lv, -kk, -dd) and take their value
// attached or as the next argument (-p123, -p 123); long flags take theirs
// after '=' or as the next argument and may be shortened to any unambiguous
// prefix (--vers); flags may follow the program or the script's arguments,
// and "--" ends them.
type options struct {
	prog       string
	progSet    bool
	list       bool
	verbose    int
	dump       int
	dryRun     bool
	pid        string
	command    string
	outFile    string
	format     string
	unsafe     bool
	helperErrs int
	help       bool
	version    bool
	info       bool
	quiet      bool
	buffering  string
	includeDir []string
	include    []string
	noWarnings bool
	usdtFile   bool
	// rest are the arguments that are not flags: the script file (unless
	// -e) and the script's positional parameters, in order.
	rest []string
}

// optionError is a mistake on the command line: the usage follows it.
type optionError struct{ msg string }

func (e *optionError) Error() string { return e.msg }

// shortFlags are the one-letter flags; a ':' after a letter means it takes
// a value.
const shortFlags = "dbB:f:e:hlp:vqc:Vo:I:k"

// longFlag is a --name flag.
type longFlag struct {
	name     string
	hasValue bool
}

var longFlags = []longFlag{
	{"help", false},
	{"version", false},
	{"info", false},
	{"unsafe", false},
	{"include", true},
	{"no-warnings", false},
	{"usdt-file-activation", false},
	{"dry-run", false},
}

func parseOptions(args []string) (*options, error) {
	o := &options{format: "text"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			o.rest = append(o.rest, args[i+1:]...)
			return o, nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			f, err := findLong(name)
			if err != nil {
				return nil, err
			}
			if f.hasValue && !hasValue {
				if i+1 >= len(args) {
					return nil, &optionError{fmt.Sprintf("option '--%s' requires an argument", f.name)}
				}
				i++
				value = args[i]
			} else if !f.hasValue && hasValue {
				return nil, &optionError{fmt.Sprintf("option '--%s' doesn't allow an argument", f.name)}
			}
			o.setLong(f.name, value)
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				c := a[j]
				k := strings.IndexByte(shortFlags, c)
				if c == ':' || k < 0 {
					return nil, &optionError{fmt.Sprintf("invalid option -- '%c'", c)}
				}
				if k+1 < len(shortFlags) && shortFlags[k+1] == ':' {
					value := a[j+1:]
					if value == "" {
						if i+1 >= len(args) {
							return nil, &optionError{fmt.Sprintf("option requires an argument -- '%c'", c)}
						}
						i++
						value = args[i]
					}
					if err := o.setShort(c, value); err != nil {
						return nil, err
					}
					break
				}
				if err := o.setShort(c, ""); err != nil {
					return nil, err
				}
			}
		default:
			o.rest = append(o.rest, a)
		}
	}
	return o, nil
}

// findLong finds a long flag by its name or an unambiguous prefix of it.
func findLong(name string) (longFlag, error) {
	var found []longFlag
	for _, f := range longFlags {
		if f.name == name {
			return f, nil
		}
		if name != "" && strings.HasPrefix(f.name, name) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return longFlag{}, &optionError{fmt.Sprintf("unrecognized option '--%s'", name)}
	}
	return longFlag{}, &optionError{fmt.Sprintf("option '--%s' is ambiguous", name)}
}

func (o *options) setShort(c byte, value string) error {
	switch c {
	case 'd':
		o.dump++
	case 'b':
		// bpftrace's -b (an old alias) does nothing.
	case 'B':
		o.buffering = value
	case 'f':
		o.format = value
	case 'e':
		o.prog, o.progSet = value, true
	case 'h':
		o.help = true
	case 'l':
		o.list = true
	case 'p':
		o.pid = value
	case 'v':
		o.verbose++
	case 'q':
		o.quiet = true
	case 'c':
		o.command = value
	case 'V':
		o.version = true
	case 'o':
		o.outFile = value
	case 'I':
		o.includeDir = append(o.includeDir, value)
	case 'k':
		o.helperErrs++
	}
	return nil
}

func (o *options) setLong(name, value string) {
	switch name {
	case "help":
		o.help = true
	case "version":
		o.version = true
	case "info":
		o.info = true
	case "unsafe":
		o.unsafe = true
	case "include":
		o.include = append(o.include, value)
	case "no-warnings":
		o.noWarnings = true
	case "usdt-file-activation":
		o.usdtFile = true
	case "dry-run":
		o.dryRun = true
	}
}

// maxPID is the kernel's largest possible PID (PID_MAX_LIMIT on 64-bit).
const maxPID = 4194304

// parsePID checks -p's value as bpftrace does.
func parsePID(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("pid '%s' is not a valid decimal number", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < 1 || n > maxPID {
		return 0, fmt.Errorf("pid '%s' out of valid pid range [1,%d]", s, maxPID)
	}
	return int(n), nil
}
