package main

// bpftrace's own tools (/usr/sbin/*.bt, from the bpftrace package) are
// real-world scripts: each goes through `gotrace --dry-run` (compile, load
// through the verifier, attach nothing). Every one must load, on every
// kernel of the matrix, except where the kernel lacks what the tool reads
// and bpftrace cannot run it either (testdata/tools/dryrun-known); every
// failure is a clean error. The summary is logged:
//
//	go test ./cmd/gotrace -run TestBpftraceToolsDryRun -v

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBpftraceToolsDryRun(t *testing.T) {
	needBinary(t)
	needKernel(t)
	tools, _ := filepath.Glob("/usr/sbin/*.bt")
	if len(tools) == 0 {
		t.Skip("bpftrace's tools are not installed (apt-get install bpftrace)")
	}
	type result struct {
		tool, firstErr string
		ok             bool
	}
	results := make([]result, len(tools))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, tool := range tools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--dry-run", tool)
			var errOut strings.Builder
			cmd.Stderr = &errOut
			err := cmd.Run()
			r := result{tool: filepath.Base(tool), ok: err == nil}
			if !r.ok {
				status := -1
				if ee, ok := err.(*exec.ExitError); ok {
					status = ee.ExitCode()
				}
				assert.Equal(t, 1, status, "%s: %v\n%s", tool, err, errOut.String())
				noCrash(t, tool, errOut.String())
				for _, line := range strings.Split(errOut.String(), "\n") {
					if strings.Contains(line, "ERROR") {
						r.firstErr = strings.TrimPrefix(line, tool+":")
						break
					}
				}
				assert.NotEmpty(t, r.firstErr, "%s fails without an ERROR line: %q", tool, errOut.String())
			}
			results[i] = r
		}()
	}
	wg.Wait()
	known := readDryRunKnown(t)
	for _, r := range results {
		if r.ok {
			continue
		}
		if re, ok := known[strings.TrimSuffix(r.tool, ".bt")]; ok && re.MatchString(r.firstErr) {
			t.Logf("%s: known: the kernel lacks what it reads (testdata/tools/dryrun-known)", r.tool)
			continue
		}
		t.Errorf("%s does not load: %s", r.tool, r.firstErr)
	}
	sort.Slice(results, func(i, j int) bool { return results[i].tool < results[j].tool })
	var b strings.Builder
	pass := 0
	for _, r := range results {
		if r.ok {
			pass++
		} else {
			fmt.Fprintf(&b, "  %s: %s\n", r.tool, r.firstErr)
		}
	}
	t.Logf("bpftrace tools through --dry-run: %d of %d load\n%s", pass, len(results), b.String())
}

// readDryRunKnown reads testdata/tools/dryrun-known: tool name to the text
// its failure's ERROR line must contain.
func readDryRunKnown(t *testing.T) map[string]*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(toolsDir, "dryrun-known"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]*regexp.Regexp{}
	for _, l := range strings.Split(string(data), "\n") {
		l, _, _ = strings.Cut(l, "#")
		tool, re, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			continue
		}
		known[tool] = regexp.MustCompile(regexp.QuoteMeta(strings.TrimSpace(re)))
	}
	return known
}
