package kernel

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ELFSymbolAddress returns the virtual address of function name in the
// binary at path (what uaddr() gives).
func ELFSymbolAddress(path, name string) (uint64, error) {
	b, err := OpenELFBinary(path)
	if err != nil {
		return 0, err
	}
	sym, ok := b.Lookup(name)
	if !ok {
		return 0, b.NotFound(name)
	}
	return sym.Addr, nil
}

// vaddrOf converts a file offset back to a virtual address.
func (b *ELFBinary) vaddrOf(off uint64) (uint64, bool) {
	for _, p := range b.loads {
		if p.Off <= off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// UserSymbolizer turns user-space addresses of a process into symbols,
// from /proc/PID/maps and the mapped files' ELF symbol tables.
type UserSymbolizer struct {
	mu   sync.Mutex
	maps map[int][]mapping
}

type mapping struct {
	start, end, offset uint64
	path               string
}

// Lookup returns "func+off" for addr in process pid; ok is false when the
// process or the symbol is gone (callers print the address instead).
func (u *UserSymbolizer) Lookup(pid int, addr uint64) (string, uint64, bool) {
	name, off, _, ok := u.Frame(pid, addr)
	return name, off, ok
}

// Frame is Lookup that also names the file the symbol is in, as perf's
// stack format prints it.
func (u *UserSymbolizer) Frame(pid int, addr uint64) (name string, off uint64, path string, ok bool) {
	u.mu.Lock()
	if u.maps == nil {
		u.maps = map[int][]mapping{}
	}
	ms, ok := u.maps[pid]
	if !ok {
		ms = readMappings(pid)
		u.maps[pid] = ms
	}
	u.mu.Unlock()
	for _, m := range ms {
		if addr < m.start || addr >= m.end {
			continue
		}
		b, err := OpenELFBinary(m.path)
		if err != nil {
			return "", 0, "", false
		}
		// File offset of addr, then the virtual address at that offset.
		v, ok := b.vaddrOf(addr - m.start + m.offset)
		if !ok {
			return "", 0, "", false
		}
		sym, ok := b.SymbolAt(v)
		if !ok {
			return "", 0, "", false
		}
		return sym.Name, v - sym.Addr, m.path, true
	}
	return "", 0, "", false
}

func readMappings(pid int) []mapping {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !strings.HasPrefix(fields[5], "/") || !strings.Contains(fields[1], "x") {
			continue
		}
		se := strings.SplitN(fields[0], "-", 2)
		start, _ := strconv.ParseUint(se[0], 16, 64)
		end, _ := strconv.ParseUint(se[1], 16, 64)
		off, _ := strconv.ParseUint(fields[2], 16, 64)
		out = append(out, mapping{start: start, end: end, offset: off, path: fields[5]})
	}
	return out
}
