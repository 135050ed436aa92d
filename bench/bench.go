// Package bench measures gotrace: Go benchmarks of the compiler's front half
// (bench_test.go: parse, check and compile of every example script) and, in
// bench/cmd/compare, a harness that runs gotrace and bpftrace side by side on
// the same scripts and prints start-up time, peak RSS, BPF instructions after
// the verifier and the added cost per traced event, each against its goal.
//
// This file holds what both share: the scripts the harness compares and the
// list of example scripts the benchmarks compile.
package bench

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// WorkloadPlaceholder stands for the path of the workload binary the harness
// builds (its uprobe target) in Script texts.
const WorkloadPlaceholder = "{{WORKLOAD}}"

// WorkloadComm is the comm of the workload process (its binary's name).
const WorkloadComm = "gtwork"

// Script is one script the harness runs under both tools.
type Script struct {
	Name string
	Text string
	// Startup: the script ends by itself (exit()) and its wall time is a
	// start-up figure; otherwise it stays attached until the harness stops
	// it, and its programs are read with bpftool meanwhile.
	Startup bool
	// Goal is the goal's row name in the table, "" when the script only
	// contributes to the other figures.
	Goal string
}

// ThreeProbe is the 3-tracepoint script with a hist and string keys.
const ThreeProbe = `tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); } ` +
	`tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); @size = hist(args->count); } ` +
	`tracepoint:syscalls:sys_enter_close { @closes[comm] = count(); }`

// OverheadScript is what traces the workload's getppid loop.
const OverheadScript = `tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }`

// Scripts are the scripts the harness compares, in table order.
var Scripts = []Script{
	{Name: "begin_exit", Text: `BEGIN { exit(); }`, Startup: true},
	// interval:ms:1 fires 1 ms after everything is attached and ends the run.
	{Name: "three_probe_exit", Text: ThreeProbe + ` interval:ms:1 { exit(); }`, Startup: true},
	{Name: "count_comm", Text: `tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }`},
	{Name: "string_keys", Text: `tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); }`},
	{Name: "hist", Text: `tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = hist(args->ret); }`},
	{Name: "uprobe_sum", Text: `uprobe:` + WorkloadPlaceholder + `:work { @s = sum(arg0); }`},
	{Name: "three_probe", Text: ThreeProbe},
	{Name: "getppid_count", Text: OverheadScript},
}

// ModuleRoot finds the gotrace module root: the nearest directory at or
// above dir holding a go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above " + dir)
		}
		dir = parent
	}
}

// ExampleFiles lists the example scripts of the module at root:
// examples/*.gt, or when there are none yet, testdata/codegen/*.gt and
// testdata/e2e/*.bt. Paths are sorted.
func ExampleFiles(root string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "examples", "*.gt"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		for _, pat := range []string{"testdata/codegen/*.gt", "testdata/e2e/*.bt"} {
			more, err := filepath.Glob(filepath.Join(root, pat))
			if err != nil {
				return nil, err
			}
			files = append(files, more...)
		}
	}
	sort.Strings(files)
	return files, nil
}

// ScriptEnv reads what a script file asks of its environment from comment
// lines, as the golden tests do: "// golden-target: 6.1" compiles for a
// kernel with kprobes.
func ScriptEnv(text string) (kprobes bool) {
	return strings.Contains(text, "// golden-target: 6.1")
}
