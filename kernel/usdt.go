package kernel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// USDTProbe is a statically defined tracing point compiled into a binary
// (a SystemTap SDT note in .note.stapsdt, as DTRACE_PROBE/STAP_PROBE emit).
type USDTProbe struct {
	Provider, Name string
	// FileOffset is where the uprobe goes; RefCtrOffset is the file offset
	// of the probe's semaphore (0: none), which the kernel increments
	// while the probe is attached so the program knows to fire it.
	FileOffset, RefCtrOffset uint64
	Args                     []USDTArg
}

// USDTArg is one argument as the note describes it ("-4@%edi", "8@-20(%rbp)",
// "4@$5"): Size bytes, Signed, found in a register, in memory at a
// register plus Offset, or as an immediate Value.
type USDTArg struct {
	Size   int
	Signed bool
	Kind   USDTArgKind
	Reg    int // pt_regs offset of the register (Register, Memory)
	Offset int64
	Value  int64 // Immediate
	Spec   string
}

// USDTArgKind says where a USDT argument lives.
type USDTArgKind int

const (
	USDTRegister USDTArgKind = iota
	USDTMemory
	USDTImmediate
)

// x86-64 register names (every width) to struct pt_regs offsets.
var usdtRegs = func() map[string]int {
	m := map[string]int{}
	add := func(off int, names ...string) {
		for _, n := range names {
			m[n] = off
		}
	}
	add(80, "rax", "eax", "ax", "al")
	add(40, "rbx", "ebx", "bx", "bl")
	add(88, "rcx", "ecx", "cx", "cl")
	add(96, "rdx", "edx", "dx", "dl")
	add(104, "rsi", "esi", "si", "sil")
	add(112, "rdi", "edi", "di", "dil")
	add(32, "rbp", "ebp", "bp", "bpl")
	add(152, "rsp", "esp", "sp", "spl")
	add(128, "rip")
	for i, off := range []int{72, 64, 56, 48, 24, 16, 8, 0} { // r8..r15
		n := "r" + strconv.Itoa(8+i)
		add(off, n, n+"d", n+"w", n+"b")
	}
	return m
}()

// USDTProbes lists the USDT probes of the ELF file at path.
func USDTProbes(path string) ([]USDTProbe, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	notes := f.Section(".note.stapsdt")
	if notes == nil {
		return nil, nil
	}
	data, err := notes.Data()
	if err != nil {
		return nil, err
	}
	b, err := OpenELFBinary(path)
	if err != nil {
		return nil, err
	}
	// Prelink may move the binary: the note records where .stapsdt.base
	// was, and the difference applies to every address in it.
	var baseAddr uint64
	if s := f.Section(".stapsdt.base"); s != nil {
		baseAddr = s.Addr
	}
	var out []USDTProbe
	le := binary.LittleEndian
	for len(data) >= 12 {
		namesz, descsz, typ := le.Uint32(data), le.Uint32(data[4:]), le.Uint32(data[8:])
		off := 12 + align4(int(namesz))
		end := off + align4(int(descsz))
		if end > len(data) || off+int(descsz) > len(data) {
			break
		}
		name := strings.TrimRight(string(data[12:12+namesz]), "\x00")
		desc := data[off : off+int(descsz)]
		data = data[end:]
		if typ != 3 || name != "stapsdt" || len(desc) < 24 {
			continue
		}
		pc, base, sem := le.Uint64(desc), le.Uint64(desc[8:]), le.Uint64(desc[16:])
		strs := bytes.SplitN(desc[24:], []byte{0}, 4)
		if len(strs) < 3 {
			continue
		}
		if baseAddr != 0 && base != 0 {
			pc += baseAddr - base
			if sem != 0 {
				sem += baseAddr - base
			}
		}
		p := USDTProbe{Provider: string(strs[0]), Name: string(strs[1])}
		if p.FileOffset, err = b.AddressOffset(pc); err != nil {
			return nil, err
		}
		if sem != 0 {
			if so, ok := b.fileOffset(sem, false); ok {
				p.RefCtrOffset = so
			}
		}
		for _, spec := range strings.Fields(string(strs[2])) {
			a, err := parseUSDTArg(spec)
			if err != nil {
				return nil, fmt.Errorf("%s: usdt %s:%s: %v", path, p.Provider, p.Name, err)
			}
			p.Args = append(p.Args, a)
		}
		out = append(out, p)
	}
	return out, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// parseUSDTArg parses one argument spec: [-]SIZE@OPERAND.
func parseUSDTArg(spec string) (USDTArg, error) {
	a := USDTArg{Spec: spec}
	size, operand, ok := strings.Cut(spec, "@")
	if !ok {
		return a, fmt.Errorf("argument %q has no size", spec)
	}
	n, err := strconv.Atoi(size)
	if err != nil || n == 0 {
		return a, fmt.Errorf("argument %q has a bad size", spec)
	}
	a.Signed, a.Size = n < 0, max(n, -n)
	switch {
	case strings.HasPrefix(operand, "$"):
		a.Kind = USDTImmediate
		a.Value, err = strconv.ParseInt(operand[1:], 0, 64)
	case strings.HasPrefix(operand, "%"):
		a.Kind = USDTRegister
		a.Reg, ok = usdtRegs[operand[1:]]
		if !ok {
			err = fmt.Errorf("unknown register in %q", spec)
		}
	default:
		// OFFSET(%reg)
		disp, reg, found := strings.Cut(strings.TrimSuffix(operand, ")"), "(")
		if !found || !strings.HasPrefix(reg, "%") {
			return a, fmt.Errorf("unsupported argument %q", spec)
		}
		a.Kind = USDTMemory
		if disp != "" {
			a.Offset, err = strconv.ParseInt(disp, 0, 64)
		}
		if a.Reg, ok = usdtRegs[reg[1:]]; !ok {
			err = fmt.Errorf("unknown register in %q", spec)
		}
	}
	return a, err
}
