package main

import (
	"strconv"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
)

// machine is the running machine, which every compile of this process is
// for. Its answers are kept for the life of the process.
var machine = target.NewLive()

// settings are the environment variables bpftrace users set, read once
// here: the compiler itself reads no environment.
type settings struct {
	StrLen  int    // BPFTRACE_STRLEN
	MapKeys uint32 // BPFTRACE_MAP_KEYS_MAX (or the older BPFTRACE_MAP_KEYS)
	// NoUserSymbols: BPFTRACE_NO_USER_SYMBOLS=1 prints user addresses.
	NoUserSymbols bool
}

func readSettings(getenv func(string) string) settings {
	var s settings
	if n, err := strconv.Atoi(getenv("BPFTRACE_STRLEN")); err == nil && n > 0 && n <= 200 {
		s.StrLen = n
	}
	for _, name := range []string{"BPFTRACE_MAP_KEYS_MAX", "BPFTRACE_MAP_KEYS"} {
		if n, err := strconv.Atoi(getenv(name)); err == nil && n > 0 {
			s.MapKeys = uint32(n)
			break
		}
	}
	s.NoUserSymbols = getenv("BPFTRACE_NO_USER_SYMBOLS") == "1"
	return s
}

// env is the checker's environment for this machine and these settings.
func (s settings) env(args []string, unsafe bool, pid int) *lang.Env {
	return &lang.Env{Target: machine, StrLen: s.StrLen, Args: args, Unsafe: unsafe, PID: pid}
}

// options are code generation's: -k checks helper calls, -kk also map
// reads of missing keys.
func (s settings) options(helperErrors int) codegen.Options {
	return codegen.Options{HelperErrors: helperErrors > 0, HelperErrorLookups: helperErrors > 1, MapKeys: s.MapKeys}
}
