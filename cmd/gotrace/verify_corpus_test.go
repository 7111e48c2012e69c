package main

// gotrace --verify on every script of the project: the conformance corpus
// (testdata/kernel), the tools (testdata/tools) and the kernel function
// probe scripts that can only be verified here (testdata/verify).

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/vmtest"
)

// verifyScript is one script to verify, with the settings of its header
// comments: `// params: a b` (as runtime's corpus test reads them) and
// `// needs: FEATURE` (a kerneltest feature the kernel must have to load
// it).
type verifyScript struct {
	dir, name, path string
	params          []string
	needs           string
}

// verifyDirs are the directories of scripts to verify, with the fewest
// scripts each should hold (so that a moved directory fails the test).
var verifyDirs = []struct {
	dir string
	min int
}{
	{"kernel", 50},
	{"tools", 10},
	{"verify", 6},
}

func verifyScripts(t *testing.T, dirs ...string) []verifyScript {
	t.Helper()
	var out []verifyScript
	for _, d := range verifyDirs {
		if len(dirs) > 0 && !slices.Contains(dirs, d.dir) {
			continue
		}
		files, err := filepath.Glob(filepath.Join("..", "..", "testdata", d.dir, "*.gt"))
		if err != nil || len(files) < d.min {
			t.Fatalf("testdata/%s holds %d scripts, want %d or more (%v)", d.dir, len(files), d.min, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s := verifyScript{dir: d.dir, name: strings.TrimSuffix(filepath.Base(f), ".gt"), path: f}
			for _, line := range strings.Split(string(b), "\n") {
				rest, ok := strings.CutPrefix(line, "// ")
				if !ok {
					continue
				}
				key, val, _ := strings.Cut(rest, ":")
				switch key {
				case "params":
					s.params = strings.Fields(val)
				case "needs":
					s.needs = strings.TrimSpace(val)
					if err := kerneltest.HasFeature(s.needs); err != nil && strings.HasPrefix(err.Error(), "unknown kernel feature") {
						t.Fatalf("%s: %v", f, err)
					}
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// missingFeatureLines matches gotrace's errors for programs the kernel
// cannot load for want of a feature: one line per program.
var missingFeatureLines = regexp.MustCompile(`^(gotrace: error: [^ ]+: this kernel cannot load [^\n]+\n)+$`)

// TestVerifyCorpus runs gotrace --verify on every script of testdata/kernel,
// testdata/tools and testdata/verify, with their parameters, and expects
// exit status 0 and no output (-q). Kprobe programs are verified here
// even on a kernel that cannot attach them. A script that needs a
// feature this kernel lacks (fentry: BPF trampolines) must fail with
// gotrace's missing-feature error instead; TestVMVerifyCorpus verifies
// it in a kernel that has the feature.
func TestVerifyCorpus(t *testing.T) {
	kerneltest.Require(t)
	for _, s := range verifyScripts(t) {
		t.Run(s.dir+"/"+s.name, func(t *testing.T) {
			r := gotrace(t, "", append([]string{"--verify", "-q", s.path}, s.params...)...)
			if s.needs != "" {
				if err := kerneltest.HasFeature(s.needs); err != nil {
					if r.status != 1 || r.stdout != "" || !missingFeatureLines.MatchString(r.stderr) {
						t.Errorf("on a kernel without %s (%v): status %d, stdout %q, stderr %q; want status 1 and the missing-feature error",
							s.needs, err, r.status, r.stdout, r.stderr)
					}
					t.Logf("the kernel lacks %s, as gotrace says; TestVMVerifyCorpus verifies the script in the VM", s.needs)
					return
				}
			}
			if r.status != 0 || r.stdout != "" || r.stderr != "" {
				t.Errorf("gotrace --verify %s: status %d, stdout %q, stderr:\n%s", s.path, r.status, r.stdout, r.stderr)
			}
		})
	}
}

// TestVMVerifyCorpus verifies the scripts of testdata/verify (kprobe,
// kretprobe, fentry, fexit, hardware) in the VM, whose kernel has kprobes
// and BPF trampolines: one boot runs gotrace --verify on each of them. The
// rest of the corpus is not verified there: the guest's kernel (Debian's
// 6.1) rejects the signed divisions and byte swaps gotrace emits (BPF
// instructions of Linux 6.6), and some tools read fields that 6.1's
// structs do not have yet.
func TestVMVerifyCorpus(t *testing.T) {
	scripts := verifyScripts(t, "verify")
	var sh strings.Builder
	for _, s := range scripts {
		args := []string{vmtest.GotracePath, "--verify", "-q", "/src/" + s.dir + "/" + s.name + ".gt"}
		args = append(args, s.params...)
		for i, a := range args {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		fmt.Fprintf(&sh, "%s >/tmp/out 2>&1; echo \"== %s/%s $?\"; cat /tmp/out\n", strings.Join(args, " "), s.dir, s.name)
	}
	res := vmtest.Run(t, vmtest.Guest{
		Args:    []string{"/bin/sh", "-c", sh.String()},
		Files:   map[string]string{"/src/verify": filepath.Join("..", "..", "testdata", "verify")},
		Timeout: 5 * time.Minute,
	})
	if res.ExitCode != 0 {
		t.Fatalf("the guest's shell failed\n%s", res.Diagnostics())
	}
	// The guest's stdout is a "== dir/name STATUS" line per script, each
	// followed by what gotrace wrote.
	status := map[string]int{}
	output := map[string]string{}
	var cur string
	for _, line := range strings.SplitAfter(res.Stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "== "); ok {
			f := strings.Fields(rest)
			if len(f) == 2 {
				n, err := strconv.Atoi(f[1])
				if err == nil {
					cur = f[0]
					status[cur] = n
					continue
				}
			}
		}
		output[cur] += line
	}
	for _, s := range scripts {
		key := s.dir + "/" + s.name
		st, ok := status[key]
		switch {
		case !ok:
			t.Errorf("%s: no result from the guest\n%s", key, res.Diagnostics())
		case st != 0 || output[key] != "":
			t.Errorf("%s: gotrace --verify in the VM: status %d, output:\n%s", key, st, output[key])
		}
	}
}
