package main

// Kernel function probes through the command. On a kernel without kprobes
// (or fentry) TestKernelFunctionProbes checks, for every script of
// kfuncScripts and the listings, the one-line error, the exit status and
// that nothing was left in the kernel; where the kernel has them it runs
// the same scripts for real, through KernelFunctionProbesForReal, which
// the VM suite also calls (TestVMKernelFunctionProbes boots runtime/vmtest's
// kernel, which has both).

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// kfuncProbe is, per feature, the probes a test script attaches and the
// listings (-l, -lv) that name the feature's providers.
var kfuncProbe = map[string]struct {
	attach []string   // probes of the feature, one script each
	list   [][]string // listings of the feature's probes
}{
	kerneltest.Kprobe: {
		attach: []string{"kprobe:vfs_read", "kretprobe:vfs_read", "k:tcp_*"},
		list:   [][]string{{"-l", "kprobe:tcp_*"}, {"-l", "kr:vfs_read"}},
	},
	kerneltest.Fentry: {
		attach: []string{"fentry:vfs_read", "fexit:vfs_read", "f:tcp_*"},
		list:   [][]string{{"-l", "fentry:tcp_*"}, {"-lv", "fentry:tcp_connect"}, {"-lv", "fexit:tcp_v4_connect"}},
	},
}

// kfuncScript is a script of kernel function probes, run through the
// command against a workload: for real where the kernel has the feature
// (the VM suite), and elsewhere to check that it fails with the
// missing-feature error naming its first kernel function probe.
type kfuncScript struct {
	name    string
	feature string
	first   string // the attach point the missing-feature error names
	// script follows threadMarker: its probes count the workload's
	// thread only (@me[tid]).
	script string
	// workload runs once the probes are attached; FILE in it is a file
	// of 10 bytes, PORT a free TCP port.
	workload string
	// probes is how many probes attach, plus the functions of ftrace's
	// list that wildcard (a glob, if not empty) matches.
	probes   int
	wildcard string
	// stdout is the exact output (after SIGINT), or stdoutRe matches it.
	stdout, stdoutRe string
}

// threadMarker makes kernel function probes see the workload's steps
// only: the Go runtime's own threads in the workload process call kernel
// functions too, so the probes filter by tid, and the thread that runs
// the steps marks its tid by calling getppid first ("getppid 1; ...").
// END clears the marks so that the tid does not print.
const threadMarker = `tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @me[tid] = 1; }
END { clear(@me); }
`

var kfuncScripts = []kfuncScript{
	// do_sys_openat2(dfd, filename, how) is what open(2) and openat(2)
	// call: arg1 is the path, in user memory; it returns the new file
	// descriptor or -errno as a long, and a kretprobe's retval is a
	// uint64, as in bpftrace.
	{name: "kprobe arg and kretprobe retval", feature: kerneltest.Kprobe, first: "kprobe:do_sys_openat2",
		script: `kprobe:do_sys_openat2 /@me[tid]/ { @path[str(uptr(arg1))] = count(); }
kretprobe:do_sys_openat2 /@me[tid]/ { @ret[(int64)retval] = count(); }`,
		workload: "getppid 1; openat 2 /gotrace-missing-a; openat 1 /gotrace-missing-b",
		probes:   4,
		stdout:   "\n\n@path[/gotrace-missing-b]: 1\n@path[/gotrace-missing-a]: 2\n@ret[-2]: 3\n"},
	// read(2) enters __x64_sys_read, which jumps to ksys_read (a tail
	// call: it leaves no frame), which calls vfs_read.
	{name: "kstack", feature: kerneltest.Kprobe, first: "kprobe:vfs_read",
		script:   `kprobe:vfs_read /@me[tid]/ { @[kstack] = count(); }`,
		workload: "getppid 1; read 3 FILE",
		probes:   3,
		stdoutRe: `^\n\n@\[\n    vfs_read\+[0-9]+\n    ksys_read\+[0-9]+\n    do_syscall_64\+[0-9]+\n    entry_SYSCALL_64_after_hwframe\+[0-9]+\n\]: 3\n$`},
	// One kprobe per vfs_ function (or one kprobe-multi link). Opening
	// the file reaches vfs_open, each read vfs_read; the lseek before
	// each read reaches no vfs_ function on the VM suite's kernel
	// (Debian's 6.1 inlines vfs_llseek into ksys_lseek).
	{name: "kprobe wildcard", feature: kerneltest.Kprobe, first: "kprobe:vfs_*",
		script:   `kprobe:vfs_* /@me[tid]/ { @[probe] = count(); }`,
		workload: "getppid 1; read 3 FILE",
		probes:   2, wildcard: "vfs_*",
		stdout: "\n\n@[kprobe:vfs_open]: 1\n@[kprobe:vfs_read]: 3\n"},
	// A TCP connect to 127.0.0.1: tcp_connect(sk) sends the SYN, with
	// the destination in the socket, the port in network byte order;
	// tcp_v4_connect(sk, uaddr, addr_len) is the connect(2) of a TCP
	// socket, uaddr the caller's struct sockaddr_in.
	{name: "fentry and fexit on a TCP connect", feature: kerneltest.Fentry, first: "fentry:tcp_connect",
		script: `fentry:tcp_connect /@me[tid]/ {
	@connect[args.sk->__sk_common.skc_family, ntop(args.sk->__sk_common.skc_daddr), bswap(args.sk->__sk_common.skc_dport)] = count();
}
fexit:tcp_v4_connect /@me[tid]/ {
	@v4[bswap(((struct sockaddr_in *)args.uaddr)->sin_port), args.addr_len, retval] = count();
}`,
		workload: "getppid 1; connect 2 PORT",
		probes:   4,
		stdout:   "\n\n@connect[2, 127.0.0.1, PORT]: 2\n@v4[PORT, 16, 0]: 2\n"},
}

func TestKernelFunctionProbes(t *testing.T) {
	kerneltest.Require(t)
	for _, feature := range []string{kerneltest.Kprobe, kerneltest.Fentry} {
		t.Run(feature, func(t *testing.T) {
			if kerneltest.HasFeature(feature) == nil {
				KernelFunctionProbesForReal(t, feature)
				return
			}
			checkMissingFeature(t, feature)
		})
	}
}

// missingFeatureError matches gotrace's error for a probe the kernel
// cannot attach: the attach point as written, what cannot be done and why,
// and what works instead.
var missingFeatureError = regexp.MustCompile(`^gotrace: error: ([a-z]+:[a-z0-9_*:]+): this kernel cannot (attach kprobes|attach kretprobes|load fentry/fexit programs) \([^\n]+\); (tracepoints and rawtracepoints work: try gotrace -l 'tracepoint:\*([a-z]+\*)?'|kprobes work: try kprobe:[a-z0-9_*]+|kretprobes work: try kretprobe:[a-z0-9_*]+)\n$`)

// checkMissingFeature runs scripts whose probes need the missing feature,
// and kfuncScripts of the feature: gotrace must exit 1 with one line
// naming the probe, having printed nothing else (BEGIN did not run) and
// left no BPF object behind. Every program of a script uses a map with a
// name unique to the run, by which the test finds what is left. The exact
// wording is checked by the runtime's tests; here, its shape. Listings of
// the feature's probes fail the same way.
func checkMissingFeature(t *testing.T, feature string) {
	for _, attach := range kfuncProbe[feature].attach {
		t.Run(attach, func(t *testing.T) {
			marker := fmt.Sprintf("miss%08x", rand.Uint32())
			script := fmt.Sprintf("BEGIN { printf(\"begin\\n\"); @%s = count(); }\n%s { @%s = count(); }\n", marker, attach, marker)
			checkMissingScript(t, script, attach, marker)
		})
	}
	for _, c := range kfuncScripts {
		if c.feature != feature {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			marker := fmt.Sprintf("miss%08x", rand.Uint32())
			script := strings.ReplaceAll(kerneltest.Script(threadMarker+c.script), "@me", "@"+marker)
			checkMissingScript(t, script, c.first, marker)
		})
	}
	for _, args := range kfuncProbe[feature].list {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := gotrace(t, "", args...)
			if r.stdout != "" || !missingFeatureError.MatchString(r.stderr) || r.status != 1 {
				t.Errorf("got stdout %q, stderr %q, status %d; want no output, the missing-feature error, status 1", r.stdout, r.stderr, r.status)
			}
		})
	}
}

// checkMissingScript runs a script that fails for a missing feature at
// attach point first, and whose programs all use map @marker.
func checkMissingScript(t *testing.T, script, first, marker string) {
	t.Helper()
	r := gotrace(t, "", "-e", script)
	m := missingFeatureError.FindStringSubmatch(r.stderr)
	if r.stdout != "" || m == nil || m[1] != first || r.status != 1 {
		t.Errorf("got stdout %q, stderr %q, status %d; want no output, the missing-feature error for %s, status 1", r.stdout, r.stderr, r.status, first)
	}
	waitUnloaded(t, "programs using map gt_"+marker, func() bpfObjects { return markedObjects(t, "gt_"+marker) })
}

// KernelFunctionProbesForReal runs kprobe (or fentry) scripts through the
// command against workloads, stops them with SIGINT, and checks their
// output and that nothing they created is left in the kernel; and lists
// the probes.
func KernelFunctionProbesForReal(t *testing.T, feature string) {
	kerneltest.Has(t, feature)
	file := filepath.Join(t.TempDir(), "gotrace-cli-kfunc")
	if err := os.WriteFile(file, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("SIGINT", func(t *testing.T) {
		probe, field := "kprobe:vfs_read", "arg2"
		if feature == kerneltest.Fentry {
			probe, field = "fentry:vfs_read", "args.count"
		}
		script := threadMarker + fmt.Sprintf("%s /@me[tid]/ { @[func, %s] = count(); }", probe, field)
		runKfuncScript(t, script, "getppid 1; read 4 "+file, 3, "\n\n@[vfs_read, 64]: 4\n", "")
	})
	port := strconv.Itoa(freePort(t))
	for _, c := range kfuncScripts {
		if c.feature != feature {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			probes := c.probes
			if c.wildcard != "" {
				probes += len(globFunctions(t, traceableFunctions(t), c.wildcard))
			}
			w := strings.NewReplacer("FILE", file, "PORT", port).Replace(c.workload)
			runKfuncScript(t, threadMarker+c.script, w, probes, strings.ReplaceAll(c.stdout, "PORT", port), c.stdoutRe)
		})
	}
	if feature == kerneltest.Kprobe {
		// vfs_read+3 is inside its first instruction (the 5-byte call to
		// __fentry__, or the 4-byte endbr64 before it): the kernel
		// refuses the kprobe, after the programs were loaded.
		t.Run("refused offset", func(t *testing.T) {
			marker := fmt.Sprintf("refu%08x", rand.Uint32())
			r := gotrace(t, "", "-e", fmt.Sprintf("kprobe:vfs_read+3 { @%s = count(); }", marker))
			r.check(t, "", "gotrace: error: attaching kprobe:vfs_read+3: the kernel refused a kprobe at vfs_read+3: the offset is not at an instruction boundary, or the instruction there cannot be probed\n", 1)
			waitUnloaded(t, "programs using map gt_"+marker, func() bpfObjects { return markedObjects(t, "gt_"+marker) })
		})
	}
	if feature == kerneltest.Fentry {
		// The system call wrappers have no BTF on some kernels (Debian's
		// 6.1), and no ftrace entry: kprobes reach them, fentry cannot.
		t.Run("function without BTF", func(t *testing.T) {
			const fn = "__x64_sys_getppid"
			spec, err := btf.LoadKernelSpec()
			if err != nil {
				t.Fatal(err)
			}
			var f *btf.Func
			if spec.TypeByName(fn, &f) == nil {
				t.Skipf("this kernel's BTF has %s", fn)
			}
			want := "-e:1:1: error: fentry:" + fn + ": the kernel's BTF has no function " + fn
			if kerneltest.HasFeature(kerneltest.Kprobe) == nil {
				want += "; kprobes can attach to it: kprobe:" + fn + "\n"
			}
			r := gotrace(t, "", "-e", "fentry:"+fn+" { }")
			if r.stdout != "" || r.status != 1 || !strings.HasPrefix(r.stderr, want) {
				t.Errorf("got stdout %q, stderr %q, status %d; want an error beginning %q, status 1", r.stdout, r.stderr, r.status, want)
			}
		})
	}
	kernelFunctionListings(t, feature)
}

// runKfuncScript runs a script until the workload is done, then stops it
// with SIGINT, and checks its output exactly (or against wantRe), the
// number of probes attached, and that its BPF objects are gone.
func runKfuncScript(t *testing.T, script, workload string, probes int, want, wantRe string) {
	t.Helper()
	r := startGotrace(t, "-e", kerneltest.Script(script))
	held, err := heldBy(r.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerneltest.Workload(workload).Run(); err != nil {
		t.Fatal(err)
	}
	res := r.stop(syscall.SIGINT)
	attached := fmt.Sprintf("Attached %d probes\n", probes)
	if wantRe == "" {
		res.check(t, want, attached, 0)
	} else if !regexp.MustCompile(wantRe).MatchString(res.stdout) || res.stderr != attached || res.status != 0 {
		t.Errorf("got stdout %q, stderr %q, status %d; want stdout matching %s, stderr %q, status 0", res.stdout, res.stderr, res.status, wantRe, attached)
	}
	waitUnloaded(t, "BPF objects of the run", func() bpfObjects { return stillLoaded(t, held) })
}

// kernelFunctionListings checks -l and -lv for the feature's providers
// against the kernel's own lists: ftrace's traceable functions, and for
// fentry those of them that have BTF. It compares the kernel image's
// functions (the VM suite's kernel has no modules loaded; elsewhere a
// module named tcp_... would add PROVIDER:tcp_...:FUNC lines, left out).
func kernelFunctionListings(t *testing.T, feature string) {
	fns := traceableFunctions(t)
	tcp := globFunctions(t, fns, "tcp_*")
	if !slices.Contains(tcp, "tcp_connect") || !slices.Contains(tcp, "tcp_v4_connect") {
		t.Fatalf("ftrace lists %d tcp_ functions, without tcp_connect or tcp_v4_connect", len(tcp))
	}
	listing := func(provider string, names []string) string {
		var b strings.Builder
		for _, n := range names {
			b.WriteString(provider + ":" + n + "\n")
		}
		return b.String()
	}
	switch feature {
	case kerneltest.Kprobe:
		t.Run("-l kprobe:tcp_*", func(t *testing.T) {
			imageOnly(gotrace(t, "", "-l", "kprobe:tcp_*")).check(t, listing("kprobe", tcp), "", 0)
		})
		glob := "kprobe:vfs_rea?" // vfs_read, not vfs_readv
		t.Run("-lv "+glob, func(t *testing.T) {
			gotrace(t, "", "-lv", glob).check(t, "kprobe:vfs_read\n", "", 0)
		})
	case kerneltest.Fentry:
		t.Run("-l fentry:tcp_*", func(t *testing.T) {
			spec, err := btf.LoadKernelSpec()
			if err != nil {
				t.Fatal(err)
			}
			var withBTF []string
			for _, n := range tcp {
				var fn *btf.Func
				if err := spec.TypeByName(n, &fn); err == nil {
					withBTF = append(withBTF, n)
				} else if !errors.Is(err, btf.ErrNotFound) {
					t.Fatalf("looking up %s in the kernel's BTF: %v", n, err)
				}
			}
			t.Logf("%d of ftrace's %d tcp_ functions have BTF", len(withBTF), len(tcp))
			imageOnly(gotrace(t, "", "-l", "fentry:tcp_*")).check(t, listing("fentry", withBTF), "", 0)
		})
		for _, c := range []struct{ glob, want string }{
			{"fentry:vfs_rea?", "fentry:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n    loff_t * pos\n"},
			{"fentry:tcp_connect", "fentry:tcp_connect\n    struct sock * sk\n"},
			{"fexit:tcp_v4_connect", "fexit:tcp_v4_connect\n    struct sock * sk\n    struct sockaddr * uaddr\n    int addr_len\n    int retval\n"},
		} {
			t.Run("-lv "+c.glob, func(t *testing.T) {
				gotrace(t, "", "-lv", c.glob).check(t, c.want, "", 0)
			})
		}
	}
}

// imageOnly drops the lines of a listing that name a module's function
// (PROVIDER:MODULE:FUNC).
func imageOnly(r result) result {
	var b strings.Builder
	for line := range strings.Lines(r.stdout) {
		if strings.Count(line, ":") < 2 {
			b.WriteString(line)
		}
	}
	r.stdout = b.String()
	return r
}

// traceableFunctions reads ftrace's list of the functions it can trace
// (available_filter_functions: "name" or "name [module]" a line), sorted
// by name, without duplicates: the kernel image's only.
func traceableFunctions(t *testing.T) []string {
	t.Helper()
	var f *os.File
	var err error
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if f, err = os.Open(dir + "/available_filter_functions"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 1 {
			names = append(names, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// globFunctions returns the names that match a glob.
func globFunctions(t *testing.T, names []string, glob string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		ok, err := filepath.Match(glob, n)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, n)
		}
	}
	return out
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*unix.SockaddrInet4).Port
}
