// Command gotrace compiles bpftrace-language scripts to eBPF, runs them and
// prints what they collect.
//
//	gotrace -e 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
//	gotrace script.gt
//	gotrace -l 'tracepoint:syscalls:*'
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
)

const version = "gotrace v0.1.0"

func main() {
	prefaultHeap(1 << 20)
	releaser = runtime.NewReleaser()
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// releaser finishes detaching after gotrace exits (see runtime/release.go).
// Only the real binary has one: Main called from tests detaches alone.
var releaser *runtime.Releaser

// usage is bpftrace 0.17's help, laid out the same way, for gotrace's flags.
const usage = `USAGE:
    gotrace [options] filename
    gotrace [options] - <stdin input>
    gotrace [options] -e 'program'

OPTIONS:
    -B MODE        output buffering mode ('line', 'full', 'none')
    -f FORMAT      output format ('text', 'json')
    -o file        redirect gotrace output to file
    -e 'program'   execute this program
    -h, --help     show this help message
    -I DIR         add the directory to the include search path
    --include FILE add an #include file before preprocessing
                   (headers must exist; types come from BTF, not from them)
    -l [search]    list probes
    -p PID         uprobes and USDT probes in PID only; the run ends when it exits
    -c 'CMD'       run CMD once the probes are attached, trace it, end when it exits
    --usdt-file-activation
                   activate usdt semaphores based on file path (always: the
                   kernel raises them in every process running the file)
    --unsafe       allow unsafe builtin functions
    -q             keep messages quiet
    --info         Print information about kernel BPF support
    -k             emit a warning, with the script position, when a memory read fails
    -kk            the same (gotrace checks the memory reads from -k on)
    -V, --version  gotrace version
    --no-warnings  disable all warning messages

TROUBLESHOOTING OPTIONS:
    -v                      verbose: the whole verifier log on errors; with -l, arguments
    -d                      (dry run) debug info: the syntax tree and the BPF instructions
    --dry-run               compile and load through the verifier, attach nothing

ENVIRONMENT:
    BPFTRACE_STRLEN             [default: 64] bytes on BPF stack per str()
    BPFTRACE_MAP_KEYS_MAX       [default: 4096] max keys in a map

EXAMPLES:
gotrace -l '*sleep*'
    list probes containing "sleep"
gotrace -e 'kprobe:do_nanosleep { printf("PID %d sleeping...\n", pid); }'
    trace processes calling sleep
gotrace -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
    count syscalls by process name
`

// Main runs gotrace with the given arguments and returns the exit status.
// It never lets a panic escape as a Go stack trace.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ERROR: internal error: %v (please report this with the script that caused it)\n", r)
			status = 1
		}
	}()

	if len(args) == 0 {
		fmt.Fprintf(stderr, "ERROR: USAGE: filename or -e 'program' required.\n%s", usage)
		return 1
	}
	o, err := parseOptions(args)
	if err != nil {
		// As getopt and bpftrace: the mistake, then the usage.
		fmt.Fprintf(stderr, "ERROR: %v\n%s", err, usage)
		return 1
	}
	if o.help {
		// bpftrace prints its help on stderr and exits 0.
		io.WriteString(stderr, usage)
		return 0
	}
	if o.version {
		fmt.Fprintln(stdout, version)
		return 0
	}
	if o.info {
		printInfo(stderr)
		return 0
	}
	if o.noWarnings {
		stderr = &noWarnings{w: stderr}
	}
	switch o.buffering {
	case "", "line", "full", "none":
	default:
		fmt.Fprintln(stderr, "ERROR: USAGE: -B must be either 'line', 'full', or 'none'.")
		return 1
	}
	if err := checkEnv(); err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}
	rest := o.rest
	pid := 0
	if o.pid != "" {
		if pid, err = parsePID(o.pid); err != nil {
			fmt.Fprintf(stderr, "ERROR: %v\n", err)
			return 1
		}
		if o.command != "" {
			fmt.Fprintf(stderr, "ERROR: USAGE: Cannot use both -c and -p.\n%s", usage)
			return 1
		}
		if err := kernel.ProcessExists(pid); err != nil {
			fmt.Fprintf(stderr, "ERROR: -p %d: %v\n", pid, err)
			return 1
		}
	}
	if o.list {
		pattern := ""
		if len(rest) > 0 {
			pattern = rest[0]
		}
		if err := checkListPattern(pattern); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := kernel.ListProbesPID(pattern, o.verbose > 0, pid, stdout); err != nil {
			fmt.Fprintf(stderr, "ERROR: %v\n", err)
			return 1
		}
		return 0
	}

	if !o.progSet && len(rest) == 0 {
		fmt.Fprintln(stderr, "ERROR: USAGE: filename or -e 'program' required.")
		return 1
	}
	src, rest, err := readSource(o.prog, o.progSet, rest, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}

	if err := checkIncludes(src, o.include, o.includeDir); err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}

	out := stdout
	if o.outFile != "" {
		f, err := os.Create(o.outFile)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: Failed to open output file: %q: %v\n", o.outFile, pathErrText(err))
			return 1
		}
		defer f.Close()
		out = f
	}
	if o.buffering == "full" {
		// Everything is written at the end of the run (Printer.Flush).
		bw := bufio.NewWriterSize(out, 1<<16)
		out = bw
	}
	var printer output.Printer
	switch o.format {
	case "text":
		printer = output.NewText(out)
	case "json":
		printer = output.NewJSON(out)
	default:
		fmt.Fprintf(stderr, "ERROR: Invalid output format %q\nValid formats: 'text', 'json'\n", o.format)
		return 1
	}
	if o.quiet {
		printer = quiet{printer}
	}

	set := readSettings(os.Getenv)
	env := set.env(rest, o.unsafe, pid)
	env.Command = o.command != ""
	compiled, err := codegen.CompileSource(src, env, set.options(o.helperErrs))
	if err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	if o.dump > 0 {
		fmt.Fprintln(stdout, "AST:")
		for _, pi := range compiled.Info.Probes {
			fmt.Fprintln(stdout, pi.Probe)
		}
		fmt.Fprintf(stdout, "\nBPF:\n%s", compiled.Listing())
	}
	if o.dryRun {
		for _, w := range runtime.Warnings(compiled) {
			fmt.Fprintln(stderr, w)
		}
		if err := runtime.Unloadable(compiled); err != nil {
			fmt.Fprintln(stderr, errorText(err))
			return 1
		}
		l, err := runtime.Load(compiled, runtime.LoadOptions{VerifierLog: o.verbose > 0, LineInfo: o.verbose > 0})
		if err != nil {
			fmt.Fprintln(stderr, errorText(err))
			return 1
		}
		l.Close()
		return 0
	}
	if o.dump > 0 {
		return 0
	}
	opts := runtime.Options{
		Out:         printer,
		Stderr:      stderr,
		PID:         pid,
		Signals:     true,
		VerifierLog: o.verbose > 0,
		Unsafe:      o.unsafe,
	}
	opts.NoUserSymbols = set.NoUserSymbols
	if pid != 0 {
		// -p: the run ends when the process does.
		exited, stop, err := runtime.WatchProcess(pid)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: -p %d: %v\n", pid, err)
			return 1
		}
		defer stop()
		opts.Done = exited
	}
	if o.command != "" {
		// -c: the command is created now, runs once the probes are
		// attached, and ends the run when it exits. Uprobes trace it
		// alone, as with -p.
		argv, err := runtime.SplitCommand(o.command)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: %v\n", err)
			return 1
		}
		cmd, err := runtime.StartCommand(argv, stdin, stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: %v\n", err)
			return 1
		}
		defer cmd.Stop()
		opts.PID = cmd.Pid()
		opts.CommandPID = cmd.Pid()
		opts.Done = cmd.Done()
		opts.Started = cmd.Release
	}
	if _, ok := os.LookupEnv(notifyVar); ok {
		// bpftrace's test hook: once every probe is attached, BEGIN has
		// run and the -c command is started, say so on stderr.
		// Events wait for it, as in bpftrace.
		opts.Attached = func() { fmt.Fprintln(stderr, notifyVar) }
	}
	opts.Releaser = releaser
	err = runtime.Run(context.Background(), compiled, opts)
	if err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	return 0
}

// checkEnv refuses, with bpftrace's words, the BPFTRACE_* settings it
// refuses: a value that is not a number, and a string size over 200 bytes.
func checkEnv() error {
	for _, name := range []string{"BPFTRACE_STRLEN", "BPFTRACE_CAT_BYTES_MAX", "BPFTRACE_MAP_KEYS_MAX"} {
		v, set := os.LookupEnv(name)
		if !set {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil && name == "BPFTRACE_CAT_BYTES_MAX" {
			// C's strtoull takes -1 as the largest number.
			_, err = strconv.ParseUint(v, 10, 64)
		}
		if err != nil {
			return fmt.Errorf("Env var '%s' did not contain a valid uint64_t, or was zero-valued.", name)
		}
		if name == "BPFTRACE_STRLEN" && n > 200 {
			return fmt.Errorf("'BPFTRACE_STRLEN' %d exceeds the current maximum of 200 bytes.\n"+
				"This limitation is because strings are currently stored on the 512 byte BPF stack.\n"+
				"Long strings will be pursued in: https://github.com/iovisor/bpftrace/issues/305", n)
		}
	}
	return nil
}

// checkListPattern refuses, as bpftrace does, a -l pattern with a
// character no probe name has (bpftrace reads the pattern as a probe).
func checkListPattern(pattern string) error {
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c < ' ' || c == 0x7f || strings.IndexByte("\\'`\" ;(){}<>|&=#%~@$", c) >= 0 {
			src := &lang.Source{Name: "stdin", Text: pattern}
			at := lang.Pos{Offset: i, Line: 1, Col: i + 1}
			end := lang.Pos{Offset: i + 1, Line: 1, Col: i + 2}
			return &lang.Error{Src: src, Span: lang.Span{Start: at, End: end},
				Msg: fmt.Sprintf("invalid character '%s' in the probe pattern", printableByte(c))}
		}
	}
	return nil
}

// printableByte shows a byte as itself, or escaped when it does not print.
func printableByte(c byte) string {
	if c < ' ' || c >= 0x7f {
		return fmt.Sprintf("\\x%02x", c)
	}
	return string(c)
}

// notifyVar, set in the environment, makes gotrace print it on stderr once
// the probes are attached, as bpftrace does (its runtime tests wait for it).
const notifyVar = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"

// quiet is -q: no "Attaching N probes..." (nor its JSON message).
type quiet struct{ output.Printer }

func (quiet) AttachedProbes(int) {}

// noWarnings is --no-warnings: it drops every warning written to stderr.
// Warnings are written whole in one Write, starting "WARNING:" or, with a
// script position, "NAME:LINE:COL: WARNING:".
type noWarnings struct{ w io.Writer }

var warningLine = regexp.MustCompile(`^(\S+:\d+:\d+(-\d+)?: )?WARNING:`)

func (n *noWarnings) Write(p []byte) (int, error) {
	if warningLine.Match(p) {
		return len(p), nil
	}
	return n.w.Write(p)
}

// pathErrText is the reason of a file error, capitalized as strerror.
func pathErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	msg := err.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}

// Compile parses, checks and compiles a script.
func Compile(src *lang.Source, args []string) (*codegen.Program, error) {
	return CompileWith(src, &lang.Env{Args: args})
}

// CompileWith is Compile with a full checker environment (--unsafe...).
// An environment without a target compiles for this machine.
func CompileWith(src *lang.Source, env *lang.Env) (*codegen.Program, error) {
	if env.Target == nil {
		e := *env
		e.Target = machine
		env = &e
	}
	return codegen.CompileSource(src, env)
}

// readSource finds the script: -e, a file, or '-' for standard input. The
// remaining arguments are positional parameters.
func readSource(prog string, progSet bool, rest []string, stdin io.Reader) (*lang.Source, []string, error) {
	if progSet {
		if prog == "" {
			return nil, nil, errors.New("no program given: use -e 'PROGRAM' or a script file (gotrace -h for help)")
		}
		return &lang.Source{Name: "stdin", Text: prog}, rest, nil
	}
	name := rest[0]
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(stdin)
		name = "stdin"
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		// bpftrace's words, then gotrace's.
		return nil, nil, fmt.Errorf("failed to open file '%s': %s", rest[0], pathErrText(err))
	}
	return &lang.Source{Name: name, Text: string(data)}, rest[1:], nil
}

// errorText renders an error for the terminal. Script errors already carry
// their position and "ERROR:"; anything else gets the prefix.
func errorText(err error) string {
	var le *lang.Error
	var ll lang.ErrorList
	if errors.As(err, &ll) || errors.As(err, &le) {
		return err.Error()
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "ERROR:") {
		return msg
	}
	return "ERROR: " + msg
}
