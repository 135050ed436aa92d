package output

import (
	"io"
	"sort"
	"strconv"
	"sync"
)

// Printer prints gotrace's output in one format.
type Printer interface {
	// AttachedProbes prints "Attaching N probes..." ("1 probe").
	AttachedProbes(n int)
	// Printf prints printf() output, already formatted (see Sprintf).
	Printf(text string)
	// Time prints time() output (already strftime-formatted).
	Time(text string)
	// Cat prints cat() output (the file's content).
	Cat(text string)
	// System prints system() output (the command's output).
	System(text string)
	// Join prints join() output (see JoinArgs); text mode adds a newline.
	Join(text string)
	// PrintValue is print(value).
	PrintValue(v Value)
	// PrintMap is print(@m, top, div): top <= 0 prints every entry, else
	// the top largest; div <= 1 does not divide.
	PrintMap(m *Map, top, div int64)
	// PrintMapsAtExit is the end-of-run dump: two newlines (in both
	// formats), then every map in name order. Pass empty maps too: text
	// mode prints an empty line for them, JSON skips them.
	PrintMapsAtExit(maps []*Map)
	// Lost reports events the ring buffer dropped.
	Lost(n uint64)
	// Flush returns the first error met writing.
	Flush() error
}

// NewText returns a Printer of bpftrace's text output.
func NewText(w io.Writer) Printer { return &printer{w: w} }

// NewJSON returns a Printer of bpftrace's JSON output (-f json).
func NewJSON(w io.Writer) Printer { return &printer{w: w, json: true} }

type printer struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	err  error
}

func (p *printer) write(s string) {
	if s == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	_, p.err = io.WriteString(p.w, s)
}

func (p *printer) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.w.(interface{ Flush() error }); ok && p.err == nil {
		p.err = f.Flush()
	}
	return p.err
}

func jsonMessage(typ, text string) string {
	return `{"type": "` + typ + `", "data": "` + jsonEscape(text) + `"}` + "\n"
}

func (p *printer) AttachedProbes(n int) {
	if p.json {
		p.write(`{"type": "attached_probes", "data": {"probes": ` + strconv.Itoa(n) + "}}\n")
		return
	}
	if n == 1 {
		p.write("Attaching 1 probe...\n")
	} else {
		p.write("Attaching " + strconv.Itoa(n) + " probes...\n")
	}
}

func (p *printer) message(typ, text string, nl bool) {
	if p.json {
		p.write(jsonMessage(typ, text))
		return
	}
	if nl {
		text += "\n"
	}
	p.write(text)
}

func (p *printer) Printf(text string) { p.message("printf", text, false) }
func (p *printer) Time(text string)   { p.message("time", text, false) }
func (p *printer) Cat(text string)    { p.message("cat", text, false) }
func (p *printer) System(text string) { p.message("syscall", text, false) }
func (p *printer) Join(text string)   { p.message("join", text, true) }

func (p *printer) PrintValue(v Value) {
	if p.json {
		p.write(`{"type": "value", "data": ` + v.json() + "}\n")
		return
	}
	p.write(v.text(valueIndent) + "\n")
}

func (p *printer) PrintMap(m *Map, top, div int64) {
	if m == nil {
		return
	}
	if p.json {
		p.write(mapJSON(m, top, div))
		return
	}
	p.write(mapText(m, top, div))
}

func (p *printer) PrintMapsAtExit(maps []*Map) {
	sorted := append([]*Map(nil), maps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	out := "\n\n"
	for _, m := range sorted {
		if m == nil {
			continue
		}
		if p.json {
			out += mapJSON(m, 0, 0)
		} else {
			out += mapText(m, 0, 0)
		}
	}
	p.write(out)
}

func (p *printer) Lost(n uint64) {
	if p.json {
		p.write(`{"type": "lost_events", "data": {"events": ` + strconv.FormatUint(n, 10) + "}}\n")
		return
	}
	p.write("Lost " + strconv.FormatUint(n, 10) + " events\n")
}
