package runtime_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// The bpftrace tools that use only tracepoints, interval and profile probes
// (our own renditions, in testdata/tools) must parse, load, attach and
// print what their bpftrace originals print. Each runs against a workload
// and its output is checked for the lines the workload must cause.
func TestTools(t *testing.T) {
	kerneltest.Require(t)
	tools := []struct {
		name     string
		workload kerneltest.Workload
		// want are regular expressions that must each match a line.
		want []string
	}{
		{"opensnoop", "openat 2 /tmp/gotrace-opensnoop", []string{
			`^PID +COMM +FD ERR PATH$`,
			`^\d+ +gtwork +-1 +2 /tmp/gotrace-opensnoop$`,
		}},
		{"execsnoop", "run /bin/echo hello gotrace", []string{
			`^TIME\(ms\) +PID +ARGS$`,
			`^\d+ +\d+ +/bin/echo hello gotrace$`,
		}},
		{"syscount", "getppid 5000", []string{
			`^Top 10 syscalls IDs:$`,
			`^@syscall\[110\]: \d+$`,
			`^@process\[gtwork\]: \d+$`,
		}},
		{"killsnoop", "sleep 1", []string{`^TIME +PID +COMM +SIG +TPID +RESULT$`}},
		{"statsnoop", "sleep 1", []string{`^PID +COMM +ERR PATH$`}},
		{"syncsnoop", "sleep 1", []string{`^TIME +PID +COMM +EVENT$`}},
		{"setuids", "sleep 1", []string{`^TIME +PID +COMM +UID +SYSCALL +ARGS \(RET\)$`}},
		{"pidpersec", "exec 3 /bin/true; sleep 1100", []string{`^\d\d:\d\d:\d\d PIDs/sec: @: \d+$`}},
		{"runqlat", "exec 3 /bin/true; spin 100", []string{`^@usecs:$`, `^\[\d+.*\) +\d+ \|@*`}},
		{"cpuwalk", "spin 300", []string{`^@cpu:$`, `^\[\d+\] +\d+ \|@+ *\|$`}},
		{"bitesize", "sleep 1", []string{`^I/O size \(bytes\) histograms by process name:`}},
		{"biolatency", "sleep 1", []string{`^Tracing block device I/O\.\.\. Hit Ctrl-C to end\.$`}},
		{"writeback", "sleep 1", []string{`^TIME +DEVICE +PAGES +REASON +ms$`}},
		{"naptime", "nanosleep 1200", []string{`^\d\d:\d\d:\d\d \d+ +\S+ +\d+ +gtwork +1\.200$`}},
		{"runqlen", "spin 300", []string{`^@runqlen:$`, `^\[0\] +\d+ \|@+ *\|$`}},
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) {
			file := filepath.Join("../testdata/tools", tool.name+".gt")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, _, _ := runScript(t, file, string(b), nil, tool.workload, 20*time.Second)
			lines := strings.Split(out, "\n")
			for _, w := range tool.want {
				re := regexp.MustCompile(kerneltest.Script(w))
				found := false
				for _, l := range lines {
					if re.MatchString(l) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("no line matches %s in:\n%s", w, out)
				}
			}
		})
	}
}
