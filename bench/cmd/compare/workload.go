package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gotrace/gotrace/bench"
)

// workloadC is the traced workload. "gtwork s N" makes N getppid syscalls,
// "gtwork u N" makes N calls of work() (the uprobe target); either prints the
// loop's own wall time and CPU time in nanoseconds, so that process start-up
// is not part of the per-event figure. The CPU time (CLOCK_PROCESS_CPUTIME_ID,
// exact scheduler accounting) includes the BPF program, which runs in the
// syscall, and not the time spent waiting for a CPU: on a busy machine it is
// the figure to trust. A third argument pins the process to that CPU.
const workloadC = `#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

__attribute__((noinline)) long work(long x) {
	__asm__ volatile("" ::: "memory");
	return x ^ (x >> 3);
}

static long long now(clockid_t clk) {
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: gtwork s|u N [CPU]\n");
		return 2;
	}
	if (argc > 3 && atoi(argv[3]) >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(atoi(argv[3]), &set);
		if (sched_setaffinity(0, sizeof set, &set) != 0) {
			perror("sched_setaffinity");
			return 2;
		}
	}
	long n = atol(argv[2]), s = 0;
	long long t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	if (argv[1][0] == 's')
		for (long i = 0; i < n; i++) s += syscall(SYS_getppid);
	else
		for (long i = 0; i < n; i++) s += work(i);
	long long c1 = now(CLOCK_PROCESS_CPUTIME_ID), t1 = now(CLOCK_MONOTONIC);
	printf("%lld %lld %ld\n", t1 - t0, c1 - c0, s);
	return 0;
}
`

// buildWorkload compiles the workload with the C compiler into dir.
func buildWorkload(ctx context.Context, cc, dir string) (string, error) {
	src := filepath.Join(dir, bench.WorkloadComm+".c")
	bin := filepath.Join(dir, bench.WorkloadComm)
	if err := os.WriteFile(src, []byte(workloadC), 0o644); err != nil {
		return "", err
	}
	if _, err := command(ctx, cc, "-O2", "-o", bin, src); err != nil {
		return "", err
	}
	return bin, nil
}

// loopTime is how long the workload's loop took.
type loopTime struct{ wall, cpu time.Duration }

// runWorkload runs the workload once, on the given CPU (-1: wherever the
// scheduler puts it), and returns its loop time.
func runWorkload(ctx context.Context, bin, mode string, n, onCPU int) (loopTime, error) {
	out, err := command(ctx, bin, mode, strconv.Itoa(n), strconv.Itoa(onCPU))
	if err != nil {
		return loopTime{}, err
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return loopTime{}, fmt.Errorf("workload printed %q", out)
	}
	wall, err1 := strconv.ParseInt(f[0], 10, 64)
	cpu, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return loopTime{}, fmt.Errorf("workload printed %q", out)
	}
	return loopTime{time.Duration(wall), time.Duration(cpu)}, nil
}
