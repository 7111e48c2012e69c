package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// TestOutputFile checks -o: the program's output goes to the file (created
// or truncated), gotrace's messages stay on stderr.
func TestOutputFile(t *testing.T) {
	runCases(t, []cliCase{
		{
			name:       "unwritable",
			args:       []string{"-o", "@TMP@/no/such/dir/out", "-e", hello},
			stderr:     "gotrace: open @TMP@/no/such/dir/out: no such file or directory\n",
			status:     1,
			needKernel: true,
		},
		{
			name:   "missing file name",
			args:   []string{"-e", hello, "-o"},
			stderr: "gotrace: -o needs a file name\n\n" + readTestdata(t, "usage.txt"),
			status: 2,
		},
	})
	kerneltest.Require(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-e", `BEGIN { printf("hi\n"); @x = 1; exit(); }`}, "hi\n\n\n@x: 1\n"},
		{[]string{"-f", "json", "-e", `BEGIN { printf("hi\n"); exit(); }`},
			`{"type": "attached_probes", "count": 1, "data": {"probes": 1}}` + "\n" + `{"type": "printf", "data": "hi\n"}` + "\n"},
	} {
		out := filepath.Join(dir, "out")
		if err := os.WriteFile(out, []byte("old contents that must go\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := gotrace(t, "", append([]string{"-o", out}, tt.args...)...)
		wantStderr := ""
		if tt.args[0] == "-e" {
			wantStderr = "Attached 1 probe\n"
		}
		r.check(t, "", wantStderr, 0)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%q: file %s", tt.args, diff(string(b), tt.want))
		}
	}
}

// chunk is what one read from gotrace's stdout returned, and when.
type chunk struct {
	at   time.Duration
	text string
}

// readChunks runs gotrace with stdout on a pipe and returns what each read
// of the pipe returned. Reads keep up with writes, so each chunk is one
// write (or writes made within a few microseconds of each other).
func readChunks(t *testing.T, args ...string) []chunk {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gotraceBin, args...)
	cmd.Env = childEnv()
	cmd.Stdout = pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var chunks []chunk
	buf := make([]byte, 1<<16)
	for {
		n, err := pr.Read(buf)
		if n > 0 {
			chunks = append(chunks, chunk{time.Since(start), string(buf[:n])})
		}
		if err != nil {
			break
		}
	}
	pr.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gotrace %q: %v", args, err)
	}
	return chunks
}

// TestBuffering checks -B: when output reaches stdout. The script prints
// "a" (no newline), 300 ms later "b\n", 300 ms later "c", and 300 ms later
// ends.
func TestBuffering(t *testing.T) {
	kerneltest.Require(t)
	script := `interval:ms:500 { @n++;
  if (@n == 1) { printf("a"); }
  if (@n == 2) { printf("b\n"); }
  if (@n == 3) { printf("c"); }
  if (@n == 4) { clear(@n); exit(); } }`
	const all = "ab\nc\n\n"
	tests := []struct {
		mode string
		// want are the chunks expected.
		want []string
	}{
		{"none", []string{"a", "b\n", "c", "\n\n"}},
		{"", []string{"a", "b\n", "c", "\n\n"}},
		{"line", []string{"ab\n", "c\n\n"}},
		{"full", []string{all}},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			args := []string{"-q", "-e", script}
			if tt.mode != "" {
				args = append([]string{"-B", tt.mode}, args...)
			}
			chunks := readChunks(t, args...)
			// Writes made within 100 ms of each other count as one: the
			// end of the run writes what is left, then the "\n\n" that
			// ends it.
			var texts []string
			for i, c := range chunks {
				if i > 0 && c.at-chunks[i-1].at < 100*time.Millisecond {
					texts[len(texts)-1] += c.text
					continue
				}
				texts = append(texts, c.text)
			}
			if strings.Join(texts, "") != all {
				t.Fatalf("output %q, want %q", strings.Join(texts, ""), all)
			}
			if strings.Join(texts, "|") != strings.Join(tt.want, "|") {
				t.Errorf("output arrived as %q, want %q (%v)", texts, tt.want, chunks)
			}
		})
	}
	runCases(t, []cliCase{{
		name:   "bad mode",
		args:   []string{"-B", "auto", "-e", hello},
		stderr: "gotrace: invalid buffering mode \"auto\" (valid: none, line, full)\n\n" + readTestdata(t, "usage.txt"),
		status: 2,
	}})
}
