package kernel

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
)

// KernelSymbols is the kernel's symbol table from /proc/kallsyms. Get the
// machine's with Kallsyms (parsed once, on first use) or build one with
// ParseKallsyms. It is safe for concurrent use.
type KernelSymbols struct {
	syms []ksym // every symbol with a non-zero address, sorted by address

	nameOnce sync.Once
	byName   map[string]uint64
}

type ksym struct {
	addr uint64
	name string
	text bool // t, T, w, W: code
}

// ErrKallsymsHidden is returned when /proc/kallsyms shows only zero
// addresses (kernel.kptr_restrict hides them from this user).
var ErrKallsymsHidden = errors.New("kernel symbol addresses are hidden: /proc/kallsyms shows only zeros (run as root, or set kernel.kptr_restrict=0)")

var kallsyms struct {
	once sync.Once
	ks   *KernelSymbols
	err  error
}

// Kallsyms returns the running kernel's symbols, parsing /proc/kallsyms the
// first time it is called.
func Kallsyms() (*KernelSymbols, error) {
	kallsyms.once.Do(func() { kallsyms.ks, kallsyms.err = ReadKallsyms() })
	return kallsyms.ks, kallsyms.err
}

// ReadKallsyms reads and parses /proc/kallsyms anew.
func ReadKallsyms() (*KernelSymbols, error) {
	data, err := readProcFile("/proc/kallsyms")
	if err != nil {
		return nil, fmt.Errorf("cannot read kernel symbols: %v", err)
	}
	return ParseKallsyms(bytes.NewReader(data))
}

// ParseKallsyms parses text in /proc/kallsyms format
// ("ffffffff816d5b70 T vfs_read", optionally followed by "\t[module]").
func ParseKallsyms(r io.Reader) (*KernelSymbols, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read kernel symbols: %v", err)
	}
	text := string(data)
	ks := &KernelSymbols{syms: make([]ksym, 0, strings.Count(text, "\n")+1)}
	sawAny := false
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		// addr SP type SP name [TAB [module]]
		sp := strings.IndexByte(line, ' ')
		if sp <= 0 || sp+3 >= len(line) || line[sp+2] != ' ' {
			continue
		}
		addr, ok := parseHex(line[:sp])
		if !ok {
			continue
		}
		typ := line[sp+1]
		name := line[sp+3:]
		if i := strings.IndexAny(name, "\t "); i >= 0 {
			name = name[:i]
		}
		if name == "" {
			continue
		}
		sawAny = true
		if addr == 0 {
			continue
		}
		ks.syms = append(ks.syms, ksym{addr: addr, name: name,
			text: typ == 't' || typ == 'T' || typ == 'w' || typ == 'W'})
	}
	if sawAny && len(ks.syms) == 0 {
		return nil, ErrKallsymsHidden
	}
	// /proc/kallsyms is already in address order; sort only if it is not.
	byAddr := func(a, b ksym) int { return cmp.Compare(a.addr, b.addr) }
	if !slices.IsSortedFunc(ks.syms, byAddr) {
		slices.SortStableFunc(ks.syms, byAddr)
	}
	return ks, nil
}

// Len is the number of symbols with a known address.
func (ks *KernelSymbols) Len() int { return len(ks.syms) }

// Lookup finds the code symbol containing addr: the text symbol with the
// highest address not above addr, and addr's offset from it. When several
// symbols share that address the first listed wins. ok is false when addr is
// below every symbol or falls after a non-code symbol.
func (ks *KernelSymbols) Lookup(addr uint64) (name string, offset uint64, ok bool) {
	// First index whose address is > addr.
	i := sort.Search(len(ks.syms), func(i int) bool { return ks.syms[i].addr > addr })
	if i == 0 {
		return "", 0, false
	}
	at := ks.syms[i-1].addr
	// Go back to the first symbol at that address, preferring code.
	j := i - 1
	for j > 0 && ks.syms[j-1].addr == at {
		j--
	}
	for k := j; k < i; k++ {
		if ks.syms[k].text {
			return ks.syms[k].name, addr - at, true
		}
	}
	return "", 0, false
}

// Address returns the address of the symbol called name (the first one
// listed, when a local name occurs more than once).
func (ks *KernelSymbols) Address(name string) (uint64, bool) {
	ks.nameOnce.Do(func() {
		ks.byName = make(map[string]uint64, len(ks.syms))
		// syms is address-sorted; keep the lowest address for duplicates,
		// which is the first listed for kallsyms' address-ordered output.
		for _, s := range ks.syms {
			if _, dup := ks.byName[s.name]; !dup {
				ks.byName[s.name] = s.addr
			}
		}
	})
	a, ok := ks.byName[name]
	return a, ok
}

func parseHex(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 16 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// readProcFile reads a (size-less) procfs file in large chunks: small reads
// of /proc/kallsyms are several times slower.
func readProcFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, 8<<20)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// KernelSymbol is one symbol of /proc/kallsyms.
type KernelSymbol struct {
	Name string
	Addr uint64
	Type byte // 'T' for code, 'D' for data
}

// Symbols lists every symbol, in address order.
func (ks *KernelSymbols) Symbols() []KernelSymbol {
	out := make([]KernelSymbol, len(ks.syms))
	for i, s := range ks.syms {
		t := byte('D')
		if s.text {
			t = 'T'
		}
		out[i] = KernelSymbol{Name: s.name, Addr: s.addr, Type: t}
	}
	return out
}
