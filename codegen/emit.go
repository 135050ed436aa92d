package codegen

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/lang"
)

// label names a jump target. Labels are resolved by the emitter itself (not
// by asm symbols) so that any number of labels can mark one instruction.
type label int

// SourceNote is the script text an instruction came from. It is attached to
// instructions with asm's WithSource, so `gotrace -d` listings show it and a
// verifier error at instruction N maps back to a script span.
type SourceNote struct {
	Src  *lang.Source
	Span lang.Span
}

func (n SourceNote) String() string {
	text, ok := n.spanText()
	if !ok {
		text = n.Src.Line(n.Span.Start.Line)
		if n.Span.End.Line == n.Span.Start.Line && n.Span.End.Col > n.Span.Start.Col && n.Span.End.Col-1 <= len(text) {
			text = text[n.Span.Start.Col-1 : n.Span.End.Col-1]
		} else if n.Span.Start.Col-1 <= len(text) {
			text = text[n.Span.Start.Col-1:]
		}
	}
	// The note becomes a BTF line info string, which may not hold a NUL
	// (a raw NUL byte in a string literal made the program fail to load).
	text = strings.ReplaceAll(text, "\x00", `\x00`)
	return fmt.Sprintf("%d:%d: %s", n.Span.Start.Line, n.Span.Start.Col, text)
}

// spanText is the text of a span within one line, cut straight out of the
// script at the span's byte offset when that agrees with its column. Loading
// asks for every note's text (cilium/ebpf turns notes into BTF line info),
// and finding the line first for each made a 1 MB script take tens of
// seconds to load. Other spans take the slow path in String.
func (n SourceNote) spanText() (string, bool) {
	t, sp := n.Src.Text, n.Span
	off, w := sp.Start.Offset, sp.End.Col-sp.Start.Col
	lineStart := off - (sp.Start.Col - 1)
	if sp.End.Line != sp.Start.Line || w <= 0 || lineStart < 0 || off+w > len(t) ||
		lineStart > 0 && t[lineStart-1] != '\n' {
		return "", false
	}
	text := t[off : off+w]
	if strings.ContainsAny(text, "\r\n") {
		return "", false
	}
	return text, true
}

// emitter accumulates instructions, resolves labels and tracks which script
// span each instruction belongs to.
type emitter struct {
	insns   asm.Instructions
	fixups  []fixup       // jumps waiting for their label's position
	targets map[label]int // label → instruction index
	nlabels int
	note    *SourceNote // current source annotation
	noted   *SourceNote // annotation already attached to an instruction
}

type fixup struct {
	at int
	to label
}

func (e *emitter) emit(ins ...asm.Instruction) {
	for _, in := range ins {
		if e.note != nil && e.note != e.noted {
			in = in.WithSource(*e.note)
			e.noted = e.note
		}
		e.insns = append(e.insns, in)
	}
}

func (e *emitter) newLabel() label {
	e.nlabels++
	return label(e.nlabels)
}

// mark places l at the next instruction to be emitted.
func (e *emitter) mark(l label) {
	if e.targets == nil {
		e.targets = map[label]int{}
	}
	e.targets[l] = len(e.insns)
}

// jump emits a jump instruction (built with an empty label) to l.
func (e *emitter) jump(ins asm.Instruction, l label) {
	e.fixups = append(e.fixups, fixup{at: len(e.insns), to: l})
	e.emit(ins)
}

func (e *emitter) ja(l label) { e.jump(asm.Ja.Label(""), l) }

// at sets the source annotation for the instructions that follow.
func (e *emitter) at(src *lang.Source, n lang.Spanned) func() {
	prev := e.note
	e.note = &SourceNote{Src: src, Span: n.NodeSpan()}
	return func() { e.note = prev }
}

// resolve fills in jump offsets. It must run after the last instruction.
func (e *emitter) resolve() error {
	// Raw offsets: LoadImm64 takes two slots.
	raw := make([]int, len(e.insns)+1)
	for i, in := range e.insns {
		raw[i+1] = raw[i] + int(in.Width())
	}
	for _, f := range e.fixups {
		t, ok := e.targets[f.to]
		if !ok {
			return fmt.Errorf("internal error: unplaced label %d", f.to)
		}
		off := raw[t] - raw[f.at] - 1
		if off < -32768 || off > 32767 {
			return fmt.Errorf("program too large: jump of %d instructions", off)
		}
		e.insns[f.at].Offset = int16(off)
		// Ja.Label("") left a placeholder reference; clear it.
		e.insns[f.at] = e.insns[f.at].WithReference("")
		if e.insns[f.at].OpCode.JumpOp() == asm.Ja {
			e.insns[f.at].Constant = 0
		}
	}
	return nil
}

// storeImm is `*(u64 *)(dst + off) = imm`. The kernel sign-extends the
// 32-bit immediate; asm.StoreImm refuses the DWord size, so build it here.
func storeImm(dst asm.Register, off int16, imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: imm}
}
