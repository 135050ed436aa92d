package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/gotrace/gotrace/bench"
)

// row is one line of the goals table.
type row struct {
	figure string
	gt, bt float64 // NaN: not measured
	format func(float64) string
	goal   float64 // the ratio gotrace/bpftrace must be at most this
	note   string
}

func fmtMS(v float64) string  { return fmt.Sprintf("%.1f ms", v) }
func fmtMB(v float64) string  { return fmt.Sprintf("%.1f MB", v/1024) }
func fmtNS(v float64) string  { return fmt.Sprintf("%.0f ns", v) }
func fmtInt(v float64) string { return fmt.Sprintf("%.0f", v) }

func cell(v float64, f func(float64) string) string {
	if math.IsNaN(v) {
		return "—"
	}
	return f(v)
}

func (r row) ratio() float64 {
	if math.IsNaN(r.gt) || math.IsNaN(r.bt) || r.bt == 0 {
		return math.NaN()
	}
	return r.gt / r.bt
}

func (r row) met() string {
	q := r.ratio()
	switch {
	case math.IsNaN(r.gt):
		return "not measured"
	case math.IsNaN(q):
		return "n/a"
	case q <= r.goal:
		return "yes"
	default:
		return "**no**"
	}
}

func report(w io.Writer, res *Results, tools []tool, c config) {
	has := func(name string) bool {
		return slices.ContainsFunc(tools, func(t tool) bool { return t.Name == name })
	}
	nan := math.NaN()
	var rows []row

	// Start-up.
	for _, s := range bench.Scripts {
		if !s.Startup {
			continue
		}
		label := "start-up to attached and back, `BEGIN { exit(); }`"
		goal := 0.05
		if s.Name != "begin_exit" {
			label = "start-up, 3 tracepoints + hist + string keys (+ `interval:ms:1 { exit(); }`)"
			goal = 0.07
		}
		r := row{figure: label + fmt.Sprintf(", median of %d", c.runs), gt: nan, bt: nan, format: fmtMS, goal: goal}
		if st := res.Startup[s.Name]["gotrace"]; st != nil && len(st.WallMS) > 0 {
			r.gt = median(st.WallMS)
		}
		if st := res.Startup[s.Name]["bpftrace"]; st != nil && len(st.WallMS) > 0 {
			r.bt = median(st.WallMS)
		}
		rows = append(rows, r)
	}

	// Peak RSS: the largest over every script.
	peak := func(tool string) (float64, string) {
		v, at := nan, ""
		for _, s := range bench.Scripts {
			if kb, ok := res.RSS[s.Name][tool]; ok && kb > 0 && (math.IsNaN(v) || float64(kb) > v) {
				v, at = float64(kb), s.Name
			}
		}
		return v, at
	}
	gtPeak, gtAt := peak("gotrace")
	btPeak, btAt := peak("bpftrace")
	rssNote := ""
	if gtAt != "" {
		rssNote = "gotrace's at " + gtAt
		if btAt != "" {
			rssNote += ", bpftrace's at " + btAt
		}
	}
	rows = append(rows, row{figure: "peak RSS, largest over all scripts", gt: gtPeak, bt: btPeak, format: fmtMB, goal: 0.2, note: rssNote})

	// Instructions after the verifier, per script.
	for _, s := range bench.Scripts {
		byTool, ok := res.Progs[s.Name]
		if !ok {
			continue
		}
		total := func(tool string) float64 {
			ps, ok := byTool[tool]
			if !ok || len(ps) == 0 {
				return nan
			}
			n := 0
			for _, p := range ps {
				n += p.Insns
			}
			return float64(n)
		}
		n := len(byTool["gotrace"])
		rows = append(rows, row{
			figure: fmt.Sprintf("instructions after the verifier: %s (%d program%s)", s.Name, n, plural(n)),
			gt:     total("gotrace"), bt: total("bpftrace"), format: fmtInt, goal: 1.0,
		})
	}

	// Per-event cost.
	if o := res.Over; o != nil {
		cost := func(tool string) float64 {
			t := o.TracedCPUMS[tool]
			if len(t) == 0 || len(o.BaselineCPUMS) == 0 {
				return nan
			}
			return (median(t) - median(o.BaselineCPUMS)) * 1e6 / float64(o.Events)
		}
		rows = append(rows, row{
			figure: fmt.Sprintf("added cost per traced event (getppid × %s, loop CPU time, median of %d)", human(o.Events), o.Rounds),
			gt:     cost("gotrace"), bt: cost("bpftrace"), format: fmtNS, goal: 0.9,
		})
	}

	fmt.Fprintf(w, "## gotrace / bpftrace, %s\n\n", res.Date)
	fmt.Fprintf(w, "Machine: %s; load average %s at the start, %s at the end.  \n", res.Machine, res.Load[0], res.Load[len(res.Load)-1])
	for _, t := range tools {
		fmt.Fprintf(w, "%s: %s.  \n", t.Name, strings.ReplaceAll(t.Version, "\n", " "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| figure | gotrace | bpftrace | gotrace / bpftrace | goal | met |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|:---:|")
	for _, r := range rows {
		q := "—"
		if v := r.ratio(); !math.IsNaN(v) {
			q = fmt.Sprintf("%.3f", v)
		}
		fig := r.figure
		if r.note != "" {
			fig += " (" + r.note + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | ≤ %g | %s |\n", fig, cell(r.gt, r.format), cell(r.bt, r.format), q, r.goal, r.met())
	}

	// Details.
	fmt.Fprintln(w, "\n### Start-up in detail (ms)")
	fmt.Fprintln(w, "\n| script | tool | wall median | wall min | wall max | to \"Attaching\" median | CPU (user+sys) median | runs |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	for _, s := range bench.Scripts {
		for _, t := range tools {
			st := res.Startup[s.Name][t.Name]
			if st == nil {
				continue
			}
			fails := ""
			if len(st.Failures) > 0 {
				fails = fmt.Sprintf(" (%d failed)", len(st.Failures))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d%s |\n", s.Name, t.Name,
				cell(median(st.WallMS), f1), cell(minOf(st.WallMS), f1), cell(maxOf(st.WallMS), f1),
				cell(median(st.AttachMS), f1), cell(median(st.CPUMS), f1), len(st.WallMS), fails)
		}
	}

	fmt.Fprintln(w, "\n### Peak RSS by script (MB)")
	fmt.Fprintf(w, "\n| script |")
	for _, t := range tools {
		fmt.Fprintf(w, " %s |", t.Name)
	}
	if has("bpftrace") {
		fmt.Fprintf(w, " ratio |")
	}
	fmt.Fprintf(w, "\n|---|")
	for range tools {
		fmt.Fprintf(w, "---:|")
	}
	if has("bpftrace") {
		fmt.Fprintf(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, s := range bench.Scripts {
		m, ok := res.RSS[s.Name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s |", s.Name)
		for _, t := range tools {
			if kb, ok := m[t.Name]; ok {
				fmt.Fprintf(w, " %.1f |", float64(kb)/1024)
			} else {
				fmt.Fprintf(w, " — |")
			}
		}
		if has("bpftrace") {
			if m["bpftrace"] > 0 && m["gotrace"] > 0 {
				fmt.Fprintf(w, " %.3f |", float64(m["gotrace"])/float64(m["bpftrace"]))
			} else {
				fmt.Fprintf(w, " — |")
			}
		}
		fmt.Fprintln(w)
	}

	if len(res.Progs) > 0 {
		fmt.Fprintln(w, "\n### Instructions by program (bytes_xlated / 8; JIT bytes in brackets)")
		fmt.Fprintln(w, "\n| script | attached to | gotrace | bpftrace | ratio |")
		fmt.Fprintln(w, "|---|---|---:|---:|---:|")
		for _, s := range bench.Scripts {
			byTool, ok := res.Progs[s.Name]
			if !ok {
				continue
			}
			var targets []string
			for _, t := range tools {
				for _, p := range byTool[t.Name] {
					if !slices.Contains(targets, p.Target) {
						targets = append(targets, p.Target)
					}
				}
			}
			find := func(tool, target string) *prog {
				for i, p := range byTool[tool] {
					if p.Target == target {
						return &byTool[tool][i]
					}
				}
				return nil
			}
			for _, target := range targets {
				g, b := find("gotrace", target), find("bpftrace", target)
				q := "—"
				if g != nil && b != nil && b.Insns > 0 {
					q = fmt.Sprintf("%.2f", float64(g.Insns)/float64(b.Insns))
					if g.Insns > b.Insns {
						q = "**" + q + "**"
					}
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.Name, target, progCell(g), progCell(b), q)
			}
		}
	}

	if o := res.Over; o != nil {
		fmt.Fprintf(w, "\n### Per-event cost in detail (%s getppid calls per run; loop time in ms)\n", human(o.Events))
		fmt.Fprintln(w, "\n| condition | CPU median | CPU min | CPU max | wall median | wall min | runs | events counted | added per event, CPU | added per event, wall |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
		base, baseWall := median(o.BaselineCPUMS), median(o.BaselineMS)
		fmt.Fprintf(w, "| untraced | %s | %s | %s | %s | %s | %d | | | |\n", cell(base, f1), cell(minOf(o.BaselineCPUMS), f1),
			cell(maxOf(o.BaselineCPUMS), f1), cell(baseWall, f1), cell(minOf(o.BaselineMS), f1), len(o.BaselineMS))
		for _, t := range tools {
			ts, tw := o.TracedCPUMS[t.Name], o.TracedMS[t.Name]
			counts := make([]string, 0, len(o.Counted[t.Name]))
			for _, n := range o.Counted[t.Name] {
				counts = append(counts, fmt.Sprint(n))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", t.Name, cell(median(ts), f1), cell(minOf(ts), f1),
				cell(maxOf(ts), f1), cell(median(tw), f1), cell(minOf(tw), f1), len(ts), strings.Join(counts, " "),
				cell((median(ts)-base)*1e6/float64(o.Events), fmtNS), cell((median(tw)-baseWall)*1e6/float64(o.Events), fmtNS))
		}
		if len(o.ProgNS) > 0 {
			fmt.Fprintf(w, "\nThe program alone (kernel BPF statistics, run_time_ns / run_cnt, a separate run):")
			for _, t := range tools {
				if v, ok := o.ProgNS[t.Name]; ok {
					fmt.Fprintf(w, " %s %.0f ns;", t.Name, v)
				}
			}
			fmt.Fprintf(w, " the rest of the added cost is the kernel's: the syscall slow path with a tracepoint on, the perf tracepoint handler, the BPF dispatch.\n")
		}
		fmt.Fprintf(w, "\nUntraced: %s of CPU per getppid call. CPU time is the loop's CLOCK_PROCESS_CPUTIME_ID, which "+
			"includes the BPF program (it runs inside the syscall) and excludes time spent waiting for a CPU.\n",
			cell(base*1e6/float64(o.Events), fmtNS))
		if c.cpu >= 0 {
			fmt.Fprintf(w, "The workload ran on CPU %d (-cpu): both tools open their tracepoint perf events on CPU 0, "+
				"where bpftrace's programs (which return 1) also pay for a perf sample per event; elsewhere they do not.\n", c.cpu)
		}
	}

	var problems []string
	problems = append(problems, res.Notes...)
	for _, s := range bench.Scripts {
		for _, t := range tools {
			if st := res.Startup[s.Name][t.Name]; st != nil {
				for _, f := range st.Failures {
					problems = append(problems, fmt.Sprintf("start-up %s under %s failed: %s", s.Name, t.Name, f))
				}
			}
		}
	}
	if res.Over != nil {
		problems = append(problems, res.Over.Failures...)
	}
	if len(problems) > 0 {
		fmt.Fprintln(w, "\n### Notes")
		fmt.Fprintln(w)
		for _, p := range problems {
			fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(strings.TrimSpace(p), "\n", " / "))
		}
	}
}

func progCell(p *prog) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%d [%d]", p.Insns, p.Jited)
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

func minOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Min(xs)
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func human(n int) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
