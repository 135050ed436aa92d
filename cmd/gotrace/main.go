// Command gotrace compiles bpftrace-language scripts to eBPF, runs them and
// prints what they collect.
//
//	gotrace -e 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
//	gotrace script.gt
//	gotrace -l 'tracepoint:syscalls:*'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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

const usage = `usage: gotrace [options] [-e PROGRAM | FILE | -] [positional args...]

  -e PROGRAM   trace the program given on the command line
  FILE         trace the program in FILE ('-' reads standard input)
  -l [PATTERN] list probes matching PATTERN (e.g. 'tracepoint:syscalls:*open*')
  -v           verbose: the full verifier log on errors, script lines in the
               kernel's copy of the programs; with -l, probe arguments
  -d           dump the syntax tree and the generated BPF instructions
  --dry-run    compile and load through the verifier, attach nothing
  -p PID       uprobes: trace only process PID; the run ends when it exits
  -c 'CMD'     run CMD once the probes are attached, trace it, end when it exits
  -o FILE      write output to FILE
  -f FORMAT    output format: text (default) or json
  --unsafe     allow functions that change the system (system, signal)
  -k           warn, with the script position, when a memory read fails
  -h           this help
  --version    print the version
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

	fs := flag.NewFlagSet("gotrace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		prog     = fs.String("e", "", "")
		list     = fs.Bool("l", false, "")
		verbose  = fs.Bool("v", false, "")
		dump     = fs.Bool("d", false, "")
		dryRun   = fs.Bool("dry-run", false, "")
		pid      = fs.Int("p", 0, "")
		command  = fs.String("c", "", "")
		outFile  = fs.String("o", "", "")
		format   = fs.String("f", "text", "")
		unsafe   = fs.Bool("unsafe", false, "")
		helpErrs = fs.Bool("k", false, "")
		help     = fs.Bool("h", false, "")
		showVers = fs.Bool("version", false, "")
	)
	if err := fs.Parse(splitShortFlags(args)); err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n%s", err, usage)
		return 1
	}
	if *help {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if *showVers {
		fmt.Fprintln(stdout, version)
		return 0
	}
	rest := fs.Args()
	if *pid != 0 {
		if *command != "" {
			fmt.Fprintln(stderr, "ERROR: -p and -c cannot be used together")
			return 1
		}
		if err := kernel.ProcessExists(*pid); err != nil {
			fmt.Fprintf(stderr, "ERROR: -p %d: %v\n", *pid, err)
			return 1
		}
	}
	if *list {
		pattern := ""
		if len(rest) > 0 {
			pattern = rest[0]
		}
		if err := kernel.ListProbesPID(pattern, *verbose, *pid, stdout); err != nil {
			fmt.Fprintf(stderr, "ERROR: %v\n", err)
			return 1
		}
		return 0
	}

	// The kernel's features decide some of the code; their probes (a few
	// tiny programs) run while the script is parsed and checked.
	go kernel.ProbeFeatures()
	src, rest, err := readSource(*prog, rest, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}

	out := stdout
	if *outFile != "" {
		f, err := os.Create(*outFile)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: %v\n", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	var printer output.Printer
	switch *format {
	case "text":
		printer = output.NewText(out)
	case "json":
		printer = output.NewJSON(out)
	default:
		fmt.Fprintf(stderr, "ERROR: unknown output format %q: use text or json\n", *format)
		return 1
	}

	compiled, err := compile(src, &lang.Env{Args: rest, Unsafe: *unsafe, PID: *pid}, codegen.Options{HelperErrors: *helpErrs})
	if err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	if *dump {
		fmt.Fprintln(stdout, "AST:")
		for _, pi := range compiled.Info.Probes {
			fmt.Fprintln(stdout, pi.Probe)
		}
		fmt.Fprintf(stdout, "\nBPF:\n%s", compiled.Listing())
	}
	if *dryRun {
		for _, w := range runtime.Warnings(compiled) {
			fmt.Fprintln(stderr, w)
		}
		if err := runtime.Unloadable(compiled); err != nil {
			fmt.Fprintln(stderr, errorText(err))
			return 1
		}
		l, err := runtime.Load(compiled, runtime.LoadOptions{VerifierLog: *verbose, LineInfo: *verbose})
		if err != nil {
			fmt.Fprintln(stderr, errorText(err))
			return 1
		}
		l.Close()
		return 0
	}
	if *dump {
		return 0
	}
	opts := runtime.Options{
		Out:         printer,
		Stderr:      stderr,
		PID:         *pid,
		Signals:     true,
		VerifierLog: *verbose,
		Unsafe:      *unsafe,
	}
	if *pid != 0 {
		// -p: the run ends when the process does.
		exited, stop, err := runtime.WatchProcess(*pid)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: -p %d: %v\n", *pid, err)
			return 1
		}
		defer stop()
		opts.Done = exited
	}
	if *command != "" {
		// -c: the command is created now, runs once the probes are
		// attached, and ends the run when it exits. Uprobes trace it
		// alone, as with -p.
		argv, err := runtime.SplitCommand(*command)
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
		opts.Done = cmd.Done()
		opts.Started = cmd.Release
	}
	opts.Releaser = releaser
	err = runtime.Run(context.Background(), compiled, opts)
	if err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	return 0
}

// Compile parses, checks and compiles a script.
func Compile(src *lang.Source, args []string) (*codegen.Program, error) {
	return CompileWith(src, &lang.Env{Args: args})
}

// compile parses and checks src, then compiles it for the running kernel,
// whose features are asked for only then (their probes started earlier).
func compile(src *lang.Source, env *lang.Env, opts codegen.Options) (*codegen.Program, error) {
	prog, err := lang.Parse(src)
	if err != nil {
		return nil, err
	}
	info, err := lang.Check(prog, src, env)
	if err != nil {
		return nil, err
	}
	opts.Features = kernel.ProbeFeatures()
	return codegen.Compile(info, opts)
}

// CompileWith is Compile with a full checker environment (--unsafe...).
func CompileWith(src *lang.Source, env *lang.Env) (*codegen.Program, error) {
	return compile(src, env, codegen.Options{})
}

// readSource finds the script: -e, a file, or '-' for standard input. The
// remaining arguments are positional parameters.
func readSource(prog string, rest []string, stdin io.Reader) (*lang.Source, []string, error) {
	if prog != "" {
		return &lang.Source{Name: "stdin", Text: prog}, rest, nil
	}
	if len(rest) == 0 {
		return nil, nil, errors.New("no program given: use -e 'PROGRAM' or a script file (gotrace -h for help)")
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
		return nil, nil, fmt.Errorf("cannot read the script: %v", err)
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

// splitShortFlags turns "-lv" into "-l", "-v" so bpftrace's spelling works.
func splitShortFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "-e" || a == "-o" || a == "-f" || a == "-p" || a == "-c" {
			out = append(out, args[i:]...)
			return splitRest(out, len(out)-len(args[i:]))
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Trim(a[1:], "lvdhk") == "" {
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// splitRest keeps splitting after a flag with a value.
func splitRest(out []string, from int) []string {
	if from+2 > len(out) {
		return out
	}
	head := append([]string{}, out[:from+2]...)
	return append(head, splitShortFlags(out[from+2:])...)
}
