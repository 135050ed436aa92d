package main

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/gotrace/gotrace/lang"
)

// gotrace reads kernel types from BTF, so the C headers a script includes
// are not parsed (lang's preprocessor skips #include lines). They are
// still looked for, as bpftrace's C preprocessor does: a header that
// cannot be found is an error, in clang's words ("'x.h' file not found").
// -I DIR adds a directory to search, before the system ones; --include
// FILE is searched the same way, as if the script began with
// #include <FILE>.

// systemIncludeDirs are where headers are looked for after the -I
// directories, in the order a C compiler searches them.
func systemIncludeDirs() []string {
	multiarch := map[string]string{
		"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu",
		"386": "i386-linux-gnu", "arm": "arm-linux-gnueabihf",
		"ppc64le": "powerpc64le-linux-gnu", "s390x": "s390x-linux-gnu",
		"riscv64": "riscv64-linux-gnu",
	}[goruntime.GOARCH]
	dirs := []string{"/usr/local/include"}
	if multiarch != "" {
		dirs = append(dirs, "/usr/include/"+multiarch)
	}
	return append(dirs, "/usr/include")
}

// findInclude looks for a header in the -I directories, then the system
// ones; a quoted include ("x.h") looks in quoteDir first.
func findInclude(name string, quoted bool, quoteDir string, includeDirs []string) bool {
	if filepath.IsAbs(name) {
		_, err := os.Stat(name)
		return err == nil
	}
	var dirs []string
	if quoted {
		dirs = append(dirs, quoteDir)
	}
	dirs = append(dirs, includeDirs...)
	for _, d := range append(dirs, systemIncludeDirs()...) {
		if st, err := os.Stat(filepath.Join(d, name)); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

// checkIncludes finds every --include file and every header the script
// includes outside a skipped #ifdef/#ifndef branch.
func checkIncludes(src *lang.Source, includes, includeDirs []string) error {
	for _, f := range includes {
		if !findInclude(f, false, "", includeDirs) {
			return fmt.Errorf("'%s' file not found (--include; searched the -I directories and %s)", f, strings.Join(systemIncludeDirs(), ", "))
		}
	}
	quoteDir := "."
	if src.Name != "stdin" {
		quoteDir = filepath.Dir(src.Name)
	}
	// The branches lang's preprocessor takes: BPFTRACE_HAVE_BTF is
	// defined, and so is every name the script #defines.
	for _, inc := range lang.Includes(src.Text) {
		if findInclude(inc.Name, inc.Quoted, quoteDir, includeDirs) {
			continue
		}
		return &lang.Error{Src: src, Span: inc.Span,
			Msg: fmt.Sprintf("'%s' file not found (searched the -I directories and %s)", inc.Name, strings.Join(systemIncludeDirs(), ", "))}
	}
	return nil
}
