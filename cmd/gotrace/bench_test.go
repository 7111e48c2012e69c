package main

import (
	"bytes"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// BenchmarkStartup measures the wall time of a whole run of a script that
// exits in BEGIN: process start, compiling, loading the programs, running
// BEGIN, printing and exiting. It reports ns/op (the mean) and
// median-ns/op, for gotrace and, when it is installed, bpftrace. Nothing
// asserts on the figures: they are noisy.
//
//	go test ./cmd/gotrace -run '^$' -bench Startup -benchtime 20x
func BenchmarkStartup(b *testing.B) {
	kerneltest.Require(b)
	b.Run("gotrace", func(b *testing.B) {
		benchRun(b, gotraceBin, "-e", hello)
	})
	b.Run("bpftrace", func(b *testing.B) {
		bin, err := exec.LookPath("bpftrace")
		if err != nil {
			b.Skip("bpftrace is not installed")
		}
		benchRun(b, bin, "-e", hello)
	})
}

// benchRun runs the command b.N times; each run must print "hi" and exit 0.
func benchRun(b *testing.B, bin string, args ...string) {
	var times []time.Duration
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Env = childEnv()
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		times = append(times, time.Since(start))
		if err != nil || !bytes.Contains(stdout.Bytes(), []byte("hi\n")) {
			b.Fatalf("%s: %v\nstdout: %q\nstderr: %q", bin, err, stdout.String(), stderr.String())
		}
	}
	slices.Sort(times)
	n := len(times)
	median := (times[(n-1)/2] + times[n/2]) / 2
	b.ReportMetric(float64(median.Nanoseconds()), "median-ns/op")
}
