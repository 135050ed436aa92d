package testenv

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for in, want := range map[string][3]int{
		"6.18.44-fc-v1252": {6, 18, 44},
		"6.1.0-28-amd64":   {6, 1, 0},
		"5.10":             {5, 10, 0},
		"5.10.223":         {5, 10, 223},
		"4.19.0+":          {4, 19, 0},
	} {
		got, err := parseVersion(in)
		if err != nil || got != want {
			t.Errorf("parseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "6", "6-rc1"} {
		if v, err := parseVersion(bad); err == nil {
			t.Errorf("parseVersion(%q) = %v, want an error", bad, v)
		}
	}
}

// recorder is a testing.TB that records the first Skip or Fatal instead of
// ending the test.
type recorder struct {
	testing.TB
	name        string
	skip, fatal string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }
func (r *recorder) Skipf(f string, a ...any) {
	if r.skip == "" && r.fatal == "" {
		r.skip = fmt.Sprintf(f, a...)
	}
}
func (r *recorder) Fatalf(f string, a ...any) {
	if r.skip == "" && r.fatal == "" {
		r.fatal = fmt.Sprintf(f, a...)
	}
}

func TestFeatureRule(t *testing.T) {
	for _, tc := range []struct {
		min    string
		kernel [3]int
		ignore string
		fail   bool
	}{
		{"5.8", [3]int{5, 4, 0}, "", false},     // older kernel: skip
		{"5.8", [3]int{5, 8, 0}, "", true},      // the first release that has it: fail
		{"5.8", [3]int{6, 18, 44}, "", true},    // newer: fail
		{"5.18", [3]int{5, 10, 223}, "", false}, // kprobe_multi on 5.10: skip
		{"5.8", [3]int{6, 1, 0}, "TestX", false},
		{"5.8", [3]int{6, 1, 0}, "TestY", true},
	} {
		t.Setenv("GOTRACE_TEST_IGNORE_VERSION", tc.ignore)
		r := &recorder{TB: t, name: "TestX/sub"}
		featureRule(r, "ring buffer", tc.min, tc.kernel)
		if tc.fail && (r.fatal == "" || r.skip != "") || !tc.fail && (r.skip == "" || r.fatal != "") {
			t.Errorf("min %s, kernel %v, ignore %q: skip %q, fatal %q; want fail=%v", tc.min, tc.kernel, tc.ignore, r.skip, r.fatal, tc.fail)
		}
	}
}

func TestConfigRule(t *testing.T) {
	for _, tc := range []struct {
		val  string
		err  error
		fail bool
	}{
		{"", nil, false},
		{"n", nil, false},
		{"y", nil, true},
		{"m", nil, true},
		{"", errors.New("no config"), true},
	} {
		r := &recorder{TB: t, name: "TestX"}
		configRule(r, "kprobes", "CONFIG_KPROBES", tc.val, tc.err)
		if tc.fail && (r.fatal == "" || r.skip != "") || !tc.fail && (r.skip == "" || r.fatal != "") {
			t.Errorf("CONFIG_KPROBES=%q (%v): skip %q, fatal %q; want fail=%v", tc.val, tc.err, r.skip, r.fatal, tc.fail)
		}
	}
}

// On this machine: the configuration is readable as the live tests need it
// when a config-gated feature is missing.
func TestConfigReadable(t *testing.T) {
	if _, err := Config("CONFIG_BPF"); err != nil {
		t.Skipf("no kernel configuration here: %v", err)
	}
	v, _ := Config("CONFIG_BPF")
	if v != "y" {
		t.Errorf("CONFIG_BPF=%q on a kernel that runs these tests", v)
	}
}
