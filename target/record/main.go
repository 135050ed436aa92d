// Command record writes a recorded target of the machine it runs on, for
// the hermetic tests (see package target):
//
//	go run ./target/record -o testdata/targets/dev
//
// What is recorded is listed in testdata/targets/request.json. Record a
// kernel the development VM does not run inside the kernel matrix
// (matrix/README.md), e.g. the 6.1 target, which has kprobes and fentry.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/gotrace/gotrace/target"
)

func main() {
	req := flag.String("request", "testdata/targets/request.json", "what to record")
	out := flag.String("o", "", "directory to write the recorded target into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: record [-request FILE] -o DIR")
		os.Exit(2)
	}
	data, err := os.ReadFile(*req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var r target.Request
	if err := json.Unmarshal(data, &r); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", *req, err)
		os.Exit(1)
	}
	if err := os.RemoveAll(*out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := target.Record(target.NewLive(), *out, r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
