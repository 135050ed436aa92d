package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime/output"
	"golang.org/x/sys/unix"
)

// Options configure a run.
type Options struct {
	Out    output.Printer
	Stderr io.Writer
	PID    int
	// VerifierLog shows the whole annotated verifier log on rejection, and
	// gives the kernel BTF line info (-v; see LoadOptions).
	VerifierLog bool
	// Signals makes Ctrl-C, SIGTERM and SIGHUP end the run (the command
	// line sets it; tests end runs through the context instead).
	Signals bool
	// Started, when set, is called once every probe is attached and BEGIN
	// has run: tests trigger their events from it.
	Started func()
	// Watch, when set, is called with the loaded program as soon as it is
	// loaded, before BEGIN runs and the probes attach: tests read its maps
	// while the run goes on (ReadMaps), to wait for the counts they expect
	// instead of waiting for a time, and list the objects it created.
	Watch func(*Loaded)
	// Unsafe allows system() to run commands (--unsafe).
	Unsafe bool
	// CommandPID is the process id of the command run with -c (cpid).
	CommandPID int
	// NoUserSymbols prints user-space addresses instead of symbols
	// (BPFTRACE_NO_USER_SYMBOLS).
	NoUserSymbols bool
	// Attached, when set, is called right after Started; no event is
	// handled (printed) before it returns, BEGIN's included. The command
	// line prints bpftrace's __BPFTRACE_NOTIFY_PROBES_ATTACHED from it.
	Attached func()
	// Done, when set, ends the run when it closes (the -c command exited).
	Done <-chan struct{}
	// Releaser, when set, takes over the closing of links and perf events
	// that the kernel makes wait (see release.go). Only a binary whose main
	// serves releasers may set it (NewReleaser).
	Releaser *Releaser
}

// Run loads, attaches and runs a compiled program until it is told to stop,
// then prints the maps. It returns when everything is detached and closed.
func Run(ctx context.Context, p *codegen.Program, opts Options) error {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	for _, w := range Warnings(p) {
		fmt.Fprintln(opts.Stderr, w)
	}
	if err := Preflight(p); err != nil {
		return err
	}
	if opts.Releaser != nil && attaches(p) {
		// Started now, while the programs load, the releaser is ready
		// by the time the run ends, however soon.
		go opts.Releaser.Start()
	}
	l, err := Load(p, LoadOptions{VerifierLog: opts.VerifierLog, LineInfo: opts.VerifierLog, CommandPID: opts.CommandPID})
	if err != nil {
		// A kernel without what every run needs is named here, after
		// the fact: probing it first would cost every start-up.
		if rerr := requirements(p); rerr != nil {
			return rerr
		}
		return err
	}
	defer l.Close()
	l.NoUserSymbols = opts.NoUserSymbols
	if opts.Watch != nil {
		opts.Watch(l)
	}

	rd, err := ringbuf.NewReader(l.Coll.Maps[codegen.RingbufMap])
	if err != nil {
		return fmt.Errorf("opening the event ring buffer: %w", err)
	}
	defer rd.Close()

	ev := &eventReader{prog: p, loaded: l, dec: newDecoder(l), stderr: opts.Stderr, unsafe: opts.Unsafe, rd: rd, out: opts.Out, exit: make(chan struct{})}
	if opts.Attached != nil {
		ev.held = [][]byte{}
		// However the run ends, what was held is printed.
		defer ev.release()
	}
	readerDone := make(chan error, 1)
	go func() { readerDone <- ev.loop() }()

	var sigs, usr1 chan os.Signal
	if opts.Signals {
		sigs = make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(sigs)
		// SIGUSR1 prints every map and the run goes on, as in bpftrace.
		usr1 = make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		defer signal.Stop(usr1)
	}

	// As bpftrace does: announce, run BEGIN, and only then attach the other
	// probes, so none of them fires before BEGIN has set things up.
	opts.Out.AttachedProbes(len(p.Probes))
	var runErr error
	for _, prog := range l.programs("BEGIN") {
		if err := runOnce(prog); err != nil {
			runErr = fmt.Errorf("running BEGIN: %w", err)
			if rerr := requirements(p); rerr != nil {
				runErr = rerr
			}
		}
	}
	a, err := Attach(l, AttachOptions{PID: opts.PID, Warn: func(w string) { fmt.Fprintln(opts.Stderr, w) }})
	if err != nil && runErr == nil {
		// Nothing is attached (Attach undoes a partial attach): report
		// the failure alone, without the map dump of a normal end.
		ev.stopping.Store(true)
		ev.release()
		rd.Flush()
		<-readerDone
		return err
	}
	readerFailed := false
	var reportedLost uint64
	if runErr == nil {
		if opts.Started != nil {
			opts.Started()
		}
		if opts.Attached != nil {
			opts.Attached()
			ev.release()
		}
		// What BEGIN printed is handled before anything may stop the
		// run: a signal that comes right away drops the events queued
		// by the probes, never BEGIN's.
		ack := make(chan struct{})
		ev.drained.Store(&ack)
		rd.Flush() // wakes the reader to print what it held
		select {
		case <-ack:
		case err := <-readerDone:
			runErr, readerFailed = err, true
		}
		// The counters are polled: lost events are reported as they
		// happen, and an exit() whose event the full ring buffer dropped
		// still ends the run.
		tick := time.NewTicker(200 * time.Millisecond)
	wait:
		for !readerFailed {
			select {
			case <-ctx.Done():
			case <-sigs:
				// As bpftrace: once told to stop, the events still
				// queued are not printed (under load, handling them
				// could take long), END's are.
				ev.ignoring.Store(true)
			case <-ev.exit:
			case <-opts.Done:
			case <-usr1:
				if maps, err := ReadMaps(l); err == nil {
					printMaps(opts.Out, maps)
				}
				continue
			case err := <-readerDone:
				// The reader stopped early: it could not handle an event.
				runErr, readerFailed = err, true
			case <-tick.C:
				c := readCounters(l.Coll.Maps[codegen.CountersMap])
				if n := c[codegen.CounterLost] - reportedLost; n > 0 {
					opts.Out.Lost(n)
					reportedLost += n
				}
				if c[codegen.CounterExit] == 0 {
					continue
				}
			}
			break wait
		}
		tick.Stop()
	}

	// Stop the probes first so that nothing new arrives, then run END,
	// then let the reader drain what is left.
	if a != nil {
		a.Detach(opts.Releaser)
		defer a.Release()
	}
	if ev.ignoring.Load() && !readerFailed {
		// Let the reader skip what the probes queued, then print END's
		// events again.
		ack := make(chan struct{})
		ev.drained.Store(&ack)
		rd.Flush()
		select {
		case <-ack:
		case err := <-readerDone:
			runErr, readerFailed = err, true
		}
		ev.ignoring.Store(false)
	}
	// END runs however the run ended, exit() included, as in bpftrace.
	for _, prog := range l.programs("END") {
		if err := runOnce(prog); err != nil && runErr == nil {
			runErr = fmt.Errorf("running END: %w", err)
		}
	}
	ev.stopping.Store(true)
	ev.release()
	if !readerFailed {
		rd.Flush()
		if err := <-readerDone; err != nil && runErr == nil {
			runErr = err
		}
	}

	counters := readCounters(l.Coll.Maps[codegen.CountersMap])
	if n := counters[codegen.CounterLost] - reportedLost; n > 0 {
		opts.Out.Lost(n)
	}
	for i, md := range p.Maps {
		if n := counters[codegen.CounterDropped+i]; n > 0 {
			fmt.Fprintf(opts.Stderr, "WARNING: %d updates of map %s were dropped because it was full; raise BPFTRACE_MAP_KEYS_MAX (now %d)\n",
				n, md.Name, l.Coll.Maps[md.Kernel].MaxEntries())
		}
	}
	maps, err := ReadMaps(l)
	if err != nil && runErr == nil {
		runErr = err
	}
	opts.Out.PrintMapsAtExit(maps)
	if err := opts.Out.Flush(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// attaches reports whether p has a probe to attach (not only BEGIN and END).
func attaches(p *codegen.Program) bool {
	for _, pp := range p.Probes {
		if k := pp.Attach.Kind; k != "BEGIN" && k != "END" {
			return true
		}
	}
	return false
}

// programs returns the loaded programs of the given probe kind, in order.
func (l *Loaded) programs(kind string) []*ebpf.Program {
	var out []*ebpf.Program
	for _, pp := range l.Prog.Probes {
		if pp.Attach.Kind == kind {
			out = append(out, l.Coll.Programs[pp.Name])
		}
	}
	return out
}

// runOnce runs a BEGIN or END program once, in gotrace's own context.
func runOnce(prog *ebpf.Program) error {
	_, err := prog.Run(&ebpf.RunOptions{})
	return err
}

// eventReader turns ring-buffer records into output.
type eventReader struct {
	prog     *codegen.Program
	loaded   *Loaded
	dec      *decoder
	stderr   io.Writer
	unsafe   bool
	rd       *ringbuf.Reader
	out      output.Printer
	exit     chan struct{} // closed by the first exit() event
	exitOnce sync.Once
	stopping atomic.Bool
	// held, when not nil, keeps the events read before release() (see
	// Options.Attached); released is set by release().
	held     [][]byte
	released atomic.Bool
	// ignoring drops events, as bpftrace does once exit() is handled or
	// a signal ends the run, until END runs; drained, when set, is closed
	// by the reader once it has read everything before a Flush.
	ignoring atomic.Bool
	drained  atomic.Pointer[chan struct{}]
}

// release lets the reader handle events, the held ones first.
func (e *eventReader) release() { e.released.Store(true) }

// printMaps prints every map, in name order, as at exit but without the
// blank lines before them (SIGUSR1).
func printMaps(out output.Printer, maps []*output.Map) {
	sort.SliceStable(maps, func(i, j int) bool { return maps[i].Name < maps[j].Name })
	for _, m := range maps {
		out.PrintMap(m, 0, 0)
	}
}

func (e *eventReader) loop() error {
	var rec ringbuf.Record
	for {
		err := e.rd.ReadInto(&rec)
		if e.held != nil && e.released.Load() {
			held := e.held
			e.held = nil
			for _, b := range held {
				if err := e.handle(b); err != nil {
					return err
				}
			}
		}
		if err != nil {
			if errors.Is(err, ringbuf.ErrFlushed) || errors.Is(err, os.ErrDeadlineExceeded) {
				if ack := e.drained.Swap(nil); ack != nil && errors.Is(err, ringbuf.ErrFlushed) {
					close(*ack)
				}
				if e.stopping.Load() {
					return nil
				}
				continue
			}
			if errors.Is(err, ringbuf.ErrClosed) {
				return nil
			}
			return fmt.Errorf("reading events: %w", err)
		}
		if e.held != nil {
			e.held = append(e.held, bytes.Clone(rec.RawSample))
			continue
		}
		if err := e.handle(rec.RawSample); err != nil {
			return err
		}
	}
}

func (e *eventReader) handle(b []byte) error {
	if e.ignoring.Load() {
		return nil
	}
	if len(b) < 8 {
		return fmt.Errorf("short event of %d bytes", len(b))
	}
	kind := codegen.EventKind(binary.LittleEndian.Uint32(b))
	idx := int(binary.LittleEndian.Uint32(b[4:]))
	switch kind {
	case codegen.EventPrintf:
		if idx >= len(e.prog.Printfs) {
			return fmt.Errorf("event for unknown printf %d", idx)
		}
		pf := e.prog.Printfs[idx]
		args := e.dec.decodeTuple(pf.Args, b[8:]).Elems
		text, err := output.Sprintf(pf.Format, args)
		if err != nil {
			return err
		}
		e.out.Printf(text)
	case codegen.EventCat, codegen.EventSystem:
		if idx >= len(e.prog.Printfs) {
			return fmt.Errorf("event for unknown format %d", idx)
		}
		pf := e.prog.Printfs[idx]
		text, err := output.Sprintf(pf.Format, e.dec.decodeTuple(pf.Args, b[8:]).Elems)
		if err != nil {
			return err
		}
		if kind == codegen.EventCat {
			e.out.Cat(catFile(text))
		} else if e.unsafe {
			e.out.System(runCommand(text))
		}
	case codegen.EventTime:
		f := ""
		if idx < len(e.prog.TimeFormats) {
			f = e.prog.TimeFormats[idx]
		}
		e.out.Time(Strftime(f, time.Now()))
	case codegen.EventJoin:
		sep := " "
		if idx < len(e.prog.JoinSeps) {
			sep = e.prog.JoinSeps[idx]
		}
		var args []string
		for i := 0; i < codegen.JoinArgs; i++ {
			off := 8 + i*e.prog.StrLen
			if off+e.prog.StrLen > len(b) {
				break
			}
			s := b[off : off+e.prog.StrLen]
			if j := bytes.IndexByte(s, 0); j >= 0 {
				s = s[:j]
			}
			if len(s) == 0 {
				break
			}
			args = append(args, string(s))
		}
		e.out.Join(output.JoinArgs(args, sep))
	case codegen.EventHelperErr:
		if idx >= len(e.prog.HelperSites) || len(b) < 16 {
			return fmt.Errorf("event for unknown helper call %d", idx)
		}
		site := e.prog.HelperSites[idx]
		errno := -int64(binary.LittleEndian.Uint64(b[8:]))
		// "Bad address (-14)", as bpftrace words it.
		reason := unix.Errno(errno).Error()
		reason = strings.ToUpper(reason[:1]) + reason[1:]
		msg := fmt.Sprintf("Failed to %s: %s (%d)", site.Helper, reason, -errno)
		if errno == 0 {
			msg = fmt.Sprintf("Failed to %s: 0", site.Helper) // -kk: a missing key
		}
		w := &lang.Error{Src: site.Src, Span: site.Span, Warning: true, Msg: msg}
		fmt.Fprintln(e.stderr, w.Error())
	case codegen.EventExit:
		// Nothing after exit() is printed, as in bpftrace, but END's.
		e.ignoring.Store(true)
		e.exitOnce.Do(func() { close(e.exit) })
	case codegen.EventPrintMap, codegen.EventClearMap, codegen.EventZeroMap:
		if idx >= len(e.prog.Maps) || len(b) < 8 {
			return fmt.Errorf("event for unknown map %d", idx)
		}
		md := e.prog.Maps[idx]
		m := e.loaded.Coll.Maps[md.Kernel]
		switch kind {
		case codegen.EventPrintMap:
			if len(b) < 24 {
				return fmt.Errorf("short print event")
			}
			om, err := e.dec.readMap(m, md)
			if err != nil {
				return err
			}
			e.out.PrintMap(om, int64(binary.LittleEndian.Uint64(b[8:])), int64(binary.LittleEndian.Uint64(b[16:])))
		case codegen.EventClearMap:
			return clearMap(m)
		case codegen.EventZeroMap:
			return zeroMap(m, md)
		}
	case codegen.EventPrintValue:
		if idx >= len(e.prog.Values) {
			return fmt.Errorf("event for unknown print %d", idx)
		}
		e.out.PrintValue(e.dec.decode(e.prog.Values[idx], b[8:]))
	default:
		return fmt.Errorf("unknown event kind %d", kind)
	}
	return nil
}

// readCounters reads the counters map: lost events, then drops per map.
func readCounters(m *ebpf.Map) []uint64 {
	var raw []byte
	if err := m.Lookup(uint32(0), &raw); err != nil {
		return make([]uint64, 1+int(m.ValueSize())/8)
	}
	out := make([]uint64, len(raw)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return out
}
