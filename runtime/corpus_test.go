package runtime_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of the corpus")

func TestMain(m *testing.M) {
	kerneltest.RunWorkload()
	os.Exit(m.Run())
}

// corpusCase is one script of testdata/kernel: NAME.gt is the script and
// NAME.out its exact stdout. Header comments configure the run:
//
//	// params: a b c          positional parameters
//	// workload: openat 3 /x  started once probes are attached (kerneltest.Workload)
//	// timeout: 5s            stop the run (as Ctrl-C would) after this long
//
// Scripts without a workload must end by themselves (exit()).
type corpusCase struct {
	name, script string
	params       []string
	workload     kerneltest.Workload
	timeout      time.Duration
}

func loadCorpus(t *testing.T) []corpusCase {
	files, err := filepath.Glob("../testdata/kernel/*.gt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus scripts found: %v", err)
	}
	var cases []corpusCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := corpusCase{name: strings.TrimSuffix(filepath.Base(f), ".gt"), script: string(b), timeout: 10 * time.Second}
		for _, line := range strings.Split(c.script, "\n") {
			rest, ok := strings.CutPrefix(line, "// ")
			if !ok {
				continue
			}
			key, val, _ := strings.Cut(rest, ":")
			val = strings.TrimSpace(val)
			switch key {
			case "params":
				c.params = strings.Fields(val)
			case "workload":
				c.workload = kerneltest.Workload(val)
			case "timeout":
				d, err := time.ParseDuration(val)
				if err != nil {
					t.Fatalf("%s: bad timeout: %v", f, err)
				}
				c.timeout = d
			}
		}
		cases = append(cases, c)
	}
	return cases
}

// runScript compiles and runs a script, starting the workload once the
// probes are attached and stopping the run when the workload is done.
func runScript(t *testing.T, name, script string, params []string, w kerneltest.Workload, timeout time.Duration) (string, string, int) {
	t.Helper()
	s, err := runtime.Compile(name, kerneltest.Script(script), runtime.CompileOptions{Params: params})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	var werr error
	status, err := s.Run(ctx, runtime.RunOptions{
		Stdout: &stdout,
		Stderr: &stderr,
		OnAttached: func() {
			if w == "" {
				return
			}
			werr = w.Run()
			cancel()
		},
	})
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if w == "" && ctx.Err() != nil {
		t.Fatalf("the script did not exit within %v", timeout)
	}
	return stdout.String(), stderr.String(), status
}

func TestCorpus(t *testing.T) {
	kerneltest.Require(t)
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			got, _, _ := runScript(t, c.name+".gt", c.script, c.params, c.workload, c.timeout)
			outFile := filepath.Join("../testdata/kernel", c.name+".out")
			if *update {
				if err := os.WriteFile(outFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outFile)
			if err != nil {
				t.Fatalf("missing expected output: %v (run go test ./runtime -run TestCorpus -update and check it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs\n--- got\n%s\n--- want\n%s", got, want)
			}
		})
	}
}
