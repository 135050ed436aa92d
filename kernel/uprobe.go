package kernel

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// UprobeSymbol is a function of an ELF binary that a uprobe can attach to.
type UprobeSymbol struct {
	Name   string
	Addr   uint64 // virtual address, as nm prints it
	Size   uint64
	Offset uint64 // offset in the file: what the kernel's uprobe takes
}

// ELFBinary is what uprobes need to know about an executable or a shared
// library: its functions and how addresses map to file offsets.
type ELFBinary struct {
	Path string
	// Funcs are the defined functions (STT_FUNC) of .symtab, .dynsym and
	// a separate debug file, sorted by name, each name once.
	Funcs []UprobeSymbol
	// Needed are the libraries it links to (DT_NEEDED), by soname.
	Needed []string

	byName    map[string]int
	ifuncs    map[string]bool   // GNU indirect functions (resolvers)
	data      map[string]uint64 // data symbols (STT_OBJECT): their addresses
	undefined map[string]bool   // functions imported from libraries
	loads     []elf.ProgHeader
}

var elfCache struct {
	mu sync.Mutex
	m  map[string]elfCacheEntry
}

type elfCacheEntry struct {
	size  int64
	mtime time.Time
	bin   *ELFBinary
}

// OpenELFBinary reads the function symbols (.symtab and .dynsym) and the
// loadable segments of an ELF file. Results are cached while the file does
// not change.
func OpenELFBinary(path string) (*ELFBinary, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	elfCache.mu.Lock()
	defer elfCache.mu.Unlock()
	if e, ok := elfCache.m[path]; ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.bin, nil
	}
	b, err := readELFBinary(path)
	if err != nil {
		return nil, err
	}
	if elfCache.m == nil {
		elfCache.m = map[string]elfCacheEntry{}
	}
	elfCache.m[path] = elfCacheEntry{st.Size(), st.ModTime(), b}
	return b, nil
}

// ReadELFBinary is OpenELFBinary without the cache.
func ReadELFBinary(path string) (*ELFBinary, error) { return readELFBinary(path) }

func readELFBinary(path string) (*ELFBinary, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s is not an ELF executable or library: %v", path, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("%s is not an ELF executable or shared library (it is %v)", path, f.Type)
	}
	b := &ELFBinary{Path: path, byName: map[string]int{}, ifuncs: map[string]bool{}, undefined: map[string]bool{}, data: map[string]uint64{}}
	b.Needed, _ = f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			b.loads = append(b.loads, p.ProgHeader)
		}
	}
	syms, _ := f.Symbols()
	dyn, _ := f.DynamicSymbols()
	type cand struct {
		s      elf.Symbol
		hidden bool
	}
	best := map[string]cand{}
	consider := func(s elf.Symbol, fromDyn bool) {
		typ := elf.ST_TYPE(s.Info)
		if s.Name == "" {
			return
		}
		if s.Section == elf.SHN_UNDEF || s.Value == 0 {
			if typ == elf.STT_FUNC {
				b.undefined[s.Name] = true
			}
			return
		}
		if typ == elf.STT_OBJECT {
			if _, ok := b.data[s.Name]; !ok {
				b.data[s.Name] = s.Value
			}
			return
		}
		// GNU indirect functions (libc's strlen, memcpy) are listed and
		// probed at their symbol, as bpftrace does: the probe fires when
		// the implementation is chosen.
		if typ == elf.STT_GNU_IFUNC {
			b.ifuncs[s.Name] = true
		}
		// Like bpftrace, leave out the compiler's partial-inlining
		// fragments ("foo.part.0"): they are not functions one calls.
		if (typ != elf.STT_FUNC && typ != elf.STT_GNU_IFUNC) || strings.Contains(s.Name, ".part.") {
			return
		}
		c := cand{s: s, hidden: fromDyn && s.HasVersion && s.VersionIndex.IsHidden()}
		old, ok := best[s.Name]
		if !ok || (old.hidden && !c.hidden) {
			best[s.Name] = c
		}
	}
	for _, s := range syms {
		consider(s, false)
	}
	for _, s := range dyn {
		consider(s, true)
	}
	// Stripped binaries: the full symbol table may be in a separate debug
	// file (libc6-dbg and the like), as bcc and bpftrace find it.
	if len(syms) == 0 {
		if dbg := debugFile(path, f); dbg != "" {
			if df, err := elf.Open(dbg); err == nil {
				dsyms, _ := df.Symbols()
				df.Close()
				for _, s := range dsyms {
					if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF && s.Value != 0 {
						if _, ok := best[s.Name]; !ok {
							consider(s, false)
						}
					}
				}
			}
		}
	}
	for name, c := range best {
		off, ok := b.fileOffset(c.s.Value, true)
		if !ok {
			continue
		}
		b.Funcs = append(b.Funcs, UprobeSymbol{Name: name, Addr: c.s.Value, Size: c.s.Size, Offset: off})
		delete(b.undefined, name)
	}
	sort.Slice(b.Funcs, func(i, j int) bool { return b.Funcs[i].Name < b.Funcs[j].Name })
	for i, s := range b.Funcs {
		b.byName[s.Name] = i
	}
	return b, nil
}

// debugDir is where separate debug files live.
var debugDir = "/usr/lib/debug"

// debugFile finds the separate debug file of a stripped binary: by build
// id (/usr/lib/debug/.build-id/ab/cdef....debug), then by .gnu_debuglink
// (next to the binary, in its .debug directory, or under /usr/lib/debug).
func debugFile(path string, f *elf.File) string {
	if sec := f.Section(".note.gnu.build-id"); sec != nil {
		if data, err := sec.Data(); err == nil && len(data) > 16 {
			nameSz := f.ByteOrder.Uint32(data[0:])
			descSz := f.ByteOrder.Uint32(data[4:])
			descOff := 12 + (int(nameSz)+3)&^3
			if descSz > 1 && descOff+int(descSz) <= len(data) {
				id := fmt.Sprintf("%x", data[descOff:descOff+int(descSz)])
				p := filepath.Join(debugDir, ".build-id", id[:2], id[2:]+".debug")
				if isELF(p) {
					return p
				}
			}
		}
	}
	if sec := f.Section(".gnu_debuglink"); sec != nil {
		if data, err := sec.Data(); err == nil {
			if i := bytes.IndexByte(data, 0); i > 0 {
				name := string(data[:i])
				real, err := filepath.EvalSymlinks(path)
				if err != nil {
					real = path
				}
				dir := filepath.Dir(real)
				for _, p := range []string{
					filepath.Join(dir, name), filepath.Join(dir, ".debug", name),
					filepath.Join(debugDir, dir, name),
				} {
					if p != real && isELF(p) {
						return p
					}
				}
			}
		}
	}
	return ""
}

// fileOffset converts a virtual address to an offset in the file through the
// loadable segments (executable ones only when exec is set).
func (b *ELFBinary) fileOffset(vaddr uint64, exec bool) (uint64, bool) {
	for _, p := range b.loads {
		if exec && p.Flags&elf.PF_X == 0 {
			continue
		}
		if p.Vaddr <= vaddr && vaddr < p.Vaddr+p.Filesz {
			return vaddr - p.Vaddr + p.Off, true
		}
	}
	return 0, false
}

// Lookup finds a function by name.
func (b *ELFBinary) Lookup(name string) (UprobeSymbol, bool) {
	i, ok := b.byName[name]
	if !ok {
		return UprobeSymbol{}, false
	}
	return b.Funcs[i], true
}

// Match returns the functions whose name matches glob (see Glob), sorted.
func (b *ELFBinary) Match(glob string) []UprobeSymbol {
	var out []UprobeSymbol
	for _, s := range b.Funcs {
		if Glob(glob, s.Name) {
			out = append(out, s)
		}
	}
	return out
}

// SymbolAt returns the function containing the virtual address vaddr.
func (b *ELFBinary) SymbolAt(vaddr uint64) (UprobeSymbol, bool) {
	for _, s := range b.Funcs {
		if s.Addr <= vaddr && (vaddr < s.Addr+s.Size || vaddr == s.Addr) {
			return s, true
		}
	}
	return UprobeSymbol{}, false
}

// AddressOffset converts a virtual address in the binary (as nm or objdump
// print it) to the file offset a uprobe attaches at.
func (b *ELFBinary) AddressOffset(vaddr uint64) (uint64, error) {
	off, ok := b.fileOffset(vaddr, true)
	if !ok {
		// bpftrace's words, then why.
		return 0, fmt.Errorf("Could not resolve address: %s:0x%x (it is not in an executable segment of %s)", b.Path, vaddr, b.Path)
	}
	return off, nil
}

// FuncOffset is the file offset of name+offset, checked to fall inside the
// function.
func (b *ELFBinary) FuncOffset(name string, offset uint64) (UprobeSymbol, uint64, error) {
	s, ok := b.Lookup(name)
	if !ok {
		return UprobeSymbol{}, 0, b.NotFound(name)
	}
	if offset != 0 && s.Size != 0 && offset >= s.Size {
		// bpftrace's words, then the probe.
		return UprobeSymbol{}, 0, fmt.Errorf("Offset outside the function bounds ('%s' size is %d): %s:%s+%d", name, s.Size, b.Path, name, offset)
	}
	return s, s.Offset + offset, nil
}

// SymbolAddress is the virtual address of a function or data symbol, as
// uaddr() gives it.
func (b *ELFBinary) SymbolAddress(name string) (uint64, bool) {
	if s, ok := b.Lookup(name); ok {
		return s.Addr, true
	}
	addr, ok := b.data[name]
	return addr, ok
}

// NotFound explains why name is not a function uprobes can attach to.
func (b *ELFBinary) NotFound(name string) error {
	switch {
	case b.undefined[name]:
		return fmt.Errorf("function %s is not defined in %s but imported from a library: probe it there, e.g. uprobe:libc:%s", name, b.Path, name)
	}
	return fmt.Errorf("function %s not found in %s; list them with: gotrace -l 'uprobe:%s:*'", name, b.Path, b.Path)
}

// isELF reports whether path is a regular file starting with the ELF magic.
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	return string(magic[:]) == elf.ELFMAG
}

// libDirs are searched for library short names missing from ld.so.cache.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
	"/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
}

// libNameMatches reports whether the file name base is the library short
// name given: "libc" or "c" matches "libc.so.6", "libpthread" matches
// "libpthread.so.0" and "libpthread-2.31.so", and a name matches itself.
func libNameMatches(name, base string) bool {
	if base == name {
		return true
	}
	for _, n := range []string{name, "lib" + name} {
		if strings.HasPrefix(n, "liblib") {
			continue
		}
		if strings.HasPrefix(base, n+".so") {
			return true
		}
		if rest, ok := strings.CutPrefix(base, n+"-"); ok && strings.Contains(rest, ".so") && rest[0] >= '0' && rest[0] <= '9' {
			return true
		}
	}
	return false
}

// ResolveUprobeTarget finds the binaries a uprobe target names, as bpftrace
// does. A target with a '/' is a path (wildcards expand; with pid, a path
// missing here is looked up inside the process's mount namespace). A bare
// name is, in order: a library or program the process pid has mapped, a
// program in $PATH, a library in the ld.so cache ("libc" → libc.so.6), a
// library in the standard library directories.
func ResolveUprobeTarget(target string, pid int) ([]string, error) {
	notFound := fmt.Errorf("uprobe target file '%s' does not exist or is not executable", target)
	if target == "" {
		return nil, errors.New("uprobe target is empty: use uprobe:/path/to/binary:function or uprobe:library:function")
	}
	if strings.Contains(target, "/") {
		if HasWildcard(target) {
			matches, _ := filepath.Glob(target)
			var out []string
			for _, m := range matches {
				if isELF(m) {
					// Glob drops a leading "./"; bpftrace keeps
					// the path as written.
					if strings.HasPrefix(target, "./") && !strings.HasPrefix(m, "./") && !filepath.IsAbs(m) {
						m = "./" + m
					}
					out = append(out, m)
				}
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("no ELF binary matches uprobe target '%s'", target)
			}
			return out, nil
		}
		path := target
		if pid > 0 && filepath.IsAbs(path) {
			if _, err := os.Stat(path); err != nil {
				path = fmt.Sprintf("/proc/%d/root%s", pid, target)
			}
		}
		if _, err := os.Stat(path); err != nil {
			return nil, notFound
		}
		if !isELF(path) {
			return nil, fmt.Errorf("uprobe target file '%s' is not an ELF executable or library", target)
		}
		return []string{path}, nil
	}
	if pid > 0 {
		files, err := ProcessMappedFiles(pid)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if libNameMatches(target, filepath.Base(f)) {
				return []string{f}, nil
			}
		}
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, target)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 && isELF(p) {
			return []string{p}, nil
		}
	}
	if libs, err := LibCache(); err == nil {
		for _, l := range libs {
			if l.nativeLib() && libNameMatches(target, l.Name) && isELF(l.Path) {
				return []string{l.Path}, nil
			}
		}
	}
	for _, dir := range libDirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if libNameMatches(target, e.Name()) && isELF(p) {
				return []string{p}, nil
			}
		}
	}
	return nil, notFound
}

// ProcessExists reports whether process pid exists, as an error suited for
// the user when it does not.
func ProcessExists(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("invalid process id %d", pid)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return fmt.Errorf("process %d does not exist", pid)
	}
	return nil
}

// ProcessMappedFiles returns the ELF files process pid has mapped (its
// executable first, then its libraries), each once, as paths usable from
// this process: files that only exist inside the process's mount namespace
// are given as /proc/PID/root/....
func ProcessMappedFiles(pid int) ([]string, error) {
	if err := ProcessExists(pid); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, fmt.Errorf("cannot read the memory map of process %d: %v", pid, err)
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p == "" || seen[p] {
			return
		}
		seen[p] = true
		host := p
		if _, err := os.Stat(host); err != nil {
			host = fmt.Sprintf("/proc/%d/root%s", pid, p)
		}
		if isELF(host) {
			out = append(out, host)
		}
	}
	add(strings.TrimSuffix(exe, " (deleted)"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// address perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !strings.HasPrefix(fields[5], "/") {
			continue
		}
		if len(fields) > 6 { // "(deleted)" or a path with spaces
			continue
		}
		if _, err := strconv.ParseUint(fields[4], 10, 64); err != nil || fields[4] == "0" {
			continue
		}
		add(fields[5])
	}
	return out, nil
}
