package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// prog is one BPF program a tracer has attached, as bpftool sees it after
// the verifier.
type prog struct {
	ID       int    `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Xlated   int    `json:"bytes_xlated"`
	Jited    int    `json:"bytes_jited"`
	Target   string `json:"target"` // what it is attached to, from bpftool perf show
	Insns    int    `json:"insns"`  // Xlated / 8
	DumpFile string `json:"dump_file,omitempty"`
	// With BPF statistics on (see progTime).
	RunTimeNS uint64 `json:"run_time_ns,omitempty"`
	RunCnt    uint64 `json:"run_cnt,omitempty"`
}

type perfEntry struct {
	PID        int    `json:"pid"`
	FD         int    `json:"fd"`
	ProgID     int    `json:"prog_id"`
	FDType     string `json:"fd_type"`
	Tracepoint string `json:"tracepoint"`
	Filename   string `json:"filename"`
	Offset     uint64 `json:"offset"`
	Func       string `json:"func"`
	Config     uint64 `json:"config"`
	Type       uint64 `json:"type"`
}

func (e perfEntry) target() string {
	switch e.FDType {
	case "tracepoint", "raw_tracepoint":
		return e.FDType + ":" + e.Tracepoint
	case "uprobe", "uretprobe":
		return fmt.Sprintf("%s:%s+0x%x", e.FDType, filepath.Base(e.Filename), e.Offset)
	case "kprobe", "kretprobe":
		return fmt.Sprintf("%s:%s+0x%x", e.FDType, e.Func, e.Offset)
	default:
		return fmt.Sprintf("%s:%d:%d", e.FDType, e.Type, e.Config)
	}
}

// attachedProgs lists the programs process pid has attached through perf
// events (tracepoints, uprobes, kprobes, perf events: what both tools use),
// from `bpftool perf show`, which names the owning pid. Programs loaded but
// not attached (BEGIN and END) are not part of it, for either tool. It polls
// until want programs are there (the "Attaching" line may come before the
// last attach) or the timeout passes.
func attachedProgs(ctx context.Context, bpftool string, pid, want int, timeout time.Duration) ([]prog, error) {
	deadline := time.Now().Add(timeout)
	var entries []perfEntry
	for {
		out, err := command(ctx, bpftool, "-j", "perf", "show")
		if err != nil {
			return nil, err
		}
		var all []perfEntry
		if err := json.Unmarshal(out, &all); err != nil {
			return nil, fmt.Errorf("bpftool perf show: %v", err)
		}
		entries = entries[:0]
		for _, e := range all {
			if e.PID == pid {
				entries = append(entries, e)
			}
		}
		if len(entries) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("bpftool perf show lists no programs of pid %d", pid)
	}
	// One program may be attached more than once (a probe list sharing a
	// body is still one program per attach point in both tools, but be
	// safe): count each program once.
	seen := map[int]bool{}
	var progs []prog
	for _, e := range entries {
		if seen[e.ProgID] {
			continue
		}
		seen[e.ProgID] = true
		out, err := command(ctx, bpftool, "-j", "prog", "show", "id", fmt.Sprint(e.ProgID))
		if err != nil {
			return nil, err
		}
		var p prog
		if err := json.Unmarshal(out, &p); err != nil {
			return nil, fmt.Errorf("bpftool prog show id %d: %v", e.ProgID, err)
		}
		p.Target = e.target()
		p.Insns = p.Xlated / 8
		progs = append(progs, p)
	}
	sort.Slice(progs, func(i, j int) bool { return progs[i].ID < progs[j].ID })
	return progs, nil
}

// dumpProgs writes `bpftool prog dump xlated` (and the JIT size) of each
// program into dir, one file per program, and records the file names.
func dumpProgs(ctx context.Context, bpftool, dir string, progs []prog) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range progs {
		p := &progs[i]
		out, err := command(ctx, bpftool, "prog", "dump", "xlated", "id", fmt.Sprint(p.ID))
		if err != nil {
			return err
		}
		name := strings.NewReplacer(":", "_", "/", "_", "+", "_").Replace(p.Target) + ".txt"
		head := fmt.Sprintf("# prog %d %s name %s attached to %s: %d instructions (xlated %d B, jited %d B)\n",
			p.ID, p.Type, p.Name, p.Target, p.Insns, p.Xlated, p.Jited)
		if err := os.WriteFile(filepath.Join(dir, name), append([]byte(head), out...), 0o644); err != nil {
			return err
		}
		p.DumpFile = filepath.Join(dir, name)
	}
	return nil
}
