package vmtest

// Tests of the harness's parts that need no VM.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cpioEntryRead is one entry as readCpio parsed it.
type cpioEntryRead struct {
	name             string
	ino, mode, nlink uint32
	rdev             [2]uint32
	data             string
}

// readCpio parses a newc archive strictly: magic, hex fields, 4-byte
// alignment of names and data, NUL after each name, zero padding, and a
// trailer at the end with nothing but padding after it.
func readCpio(t *testing.T, archive []byte) []cpioEntryRead {
	t.Helper()
	var out []cpioEntryRead
	off := 0
	align := func(what string) {
		for off%4 != 0 {
			if archive[off] != 0 {
				t.Fatalf("non-zero padding after %s at offset %d", what, off)
			}
			off++
		}
	}
	for {
		if off+110 > len(archive) {
			t.Fatalf("archive ends at %d without a trailer", off)
		}
		h := string(archive[off : off+110])
		if h[:6] != "070701" {
			t.Fatalf("bad magic %q at offset %d", h[:6], off)
		}
		var f [13]uint32
		for i := range f {
			v, err := strconv.ParseUint(h[6+8*i:14+8*i], 16, 32)
			if err != nil {
				t.Fatalf("header field %d at offset %d: %v", i, off, err)
			}
			f[i] = uint32(v)
		}
		off += 110
		namesize, size := int(f[11]), int(f[6])
		name := string(archive[off : off+namesize])
		if !strings.HasSuffix(name, "\x00") || strings.Count(name, "\x00") != 1 {
			t.Fatalf("name %q is not NUL-terminated exactly once", name)
		}
		name = strings.TrimSuffix(name, "\x00")
		off += namesize
		align("the name of " + name)
		if name == "TRAILER!!!" {
			align("the trailer")
			if off != len(archive) {
				t.Fatalf("%d bytes after the trailer", len(archive)-off)
			}
			return out
		}
		data := string(archive[off : off+size])
		off += size
		align("the data of " + name)
		out = append(out, cpioEntryRead{name: name, ino: f[0], mode: f[1], nlink: f[4], rdev: [2]uint32{f[9], f[10]}, data: data})
	}
}

func TestCpioFormat(t *testing.T) {
	var buf bytes.Buffer
	cw := &cpioWriter{w: &buf}
	cw.Dir("/bin", 0o755)
	cw.File("/bin/x", 0o750, 5, strings.NewReader("hello"))
	cw.File("/empty", 0o644, 0, strings.NewReader(""))
	cw.Symlink("/bin/sh", "busybox")
	cw.CharDev("/dev/console", 0o600, 5, 1)
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, buf.Bytes())
	want := []cpioEntryRead{
		{name: "bin", ino: 1, mode: 0o40755, nlink: 2},
		{name: "bin/x", ino: 2, mode: 0o100750, nlink: 1, data: "hello"},
		{name: "empty", ino: 3, mode: 0o100644, nlink: 1},
		{name: "bin/sh", ino: 4, mode: 0o120777, nlink: 1, data: "busybox"},
		{name: "dev/console", ino: 5, mode: 0o20600, nlink: 1, rdev: [2]uint32{5, 1}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("entries:\n got %v\nwant %v", got, want)
	}

	// A short reader is an error, not a corrupt archive.
	cw = &cpioWriter{w: io.Discard}
	cw.File("short", 0o644, 10, strings.NewReader("abc"))
	if err := cw.Close(); err == nil || !strings.Contains(err.Error(), "wrote 3 of 10 bytes") {
		t.Errorf("short file: error %v, want one that says it wrote 3 of 10 bytes", err)
	}
}

// TestInitramfs builds an initramfs and reads it back: the scripts, the
// files byte for byte, and every directory before what it contains.
func TestInitramfs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, perm os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), perm); err != nil {
			t.Fatal(err)
		}
		return p
	}
	busybox := write("busybox", "not really busybox", 0o755)
	files := map[string]string{
		"/bin/vm.test":        write("a", "test binary", 0o755),
		"/usr/share/x/data":   write("b", "some data\n", 0o640),
		"/usr/share/x/y/more": write("c", "", 0o600),
	}
	out := filepath.Join(dir, "initramfs.gz")
	guest := guestScript([]string{"A=1"}, "/tmp", []string{"/bin/true"})
	if err := writeInitramfs(out, busybox, guest, files); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	entries := readCpio(t, archive)
	seen := map[string]cpioEntryRead{}
	for _, e := range entries {
		if _, dup := seen[e.name]; dup {
			t.Errorf("%s appears twice", e.name)
		}
		if parent := path.Dir(e.name); parent != "." {
			if p, ok := seen[parent]; !ok || p.mode&0o170000 != modeDir {
				t.Errorf("%s comes before its directory %s", e.name, parent)
			}
		}
		seen[e.name] = e
	}
	for name, want := range map[string]struct {
		mode uint32
		data string
	}{
		"init":               {0o100755, initScript},
		"guest":              {0o100755, guest},
		"etc/passwd":         {0o100644, "root:x:0:0:root:/root:/bin/sh\n"},
		"bin/busybox":        {0o100755, "not really busybox"},
		"bin/vm.test":        {0o100755, "test binary"},
		"usr/share/x/data":   {0o100640, "some data\n"},
		"usr/share/x/y/more": {0o100600, ""},
		"proc":               {0o40755, ""},
		"sys":                {0o40755, ""},
		"tmp":                {0o40755, ""},
		"dev":                {0o40755, ""},
		"usr/share/x/y":      {0o40755, ""},
		"dev/console":        {0o20600, ""},
	} {
		e, ok := seen[name]
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		if e.mode != want.mode || e.data != want.data {
			t.Errorf("%s: mode %o, data %q; want %o, %q", name, e.mode, e.data, want.mode, want.data)
		}
	}
}

// TestGuestScript runs the generated script with the host's sh: every
// argument and variable arrives as it was given, whatever it contains.
func TestGuestScript(t *testing.T) {
	args := []string{"it's", "a b", "$HOME", "`x`", "new\nline", "", `back\slash`, `"q"`}
	env := []string{"V1=it's a $test", "V2=x'y'z"}
	dir := t.TempDir()
	script := guestScript(env, filepath.Join(dir, "it's new"), append([]string{"/bin/sh", "-c", `printf '[%s]\n' "$@" "$V1" "$V2" "${PWD##*/}"`, "sh"}, args...))
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s\nscript:\n%s", err, out, script)
	}
	var want strings.Builder
	for _, a := range append(args, "it's a $test", "x'y'z", "it's new") {
		want.WriteString("[" + a + "]\n")
	}
	if string(out) != want.String() {
		t.Errorf("got\n%s\nwant\n%s\nscript:\n%s", out, want.String(), script)
	}
}

func TestExpandDirs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a", "sub/b", "sub/deeper/c"} {
		p := filepath.Join(dir, "tree", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	single := filepath.Join(dir, "tree", "a")
	got, err := expandDirs(map[string]string{"/g/t": filepath.Join(dir, "tree"), "/one": single})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/g/t/a":            single,
		"/g/t/sub/b":        filepath.Join(dir, "tree", "sub", "b"),
		"/g/t/sub/deeper/c": filepath.Join(dir, "tree", "sub", "deeper", "c"),
		"/one":              single,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if _, err := expandDirs(map[string]string{"/x": filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing host file: no error")
	}
}

func TestReservedGuestPath(t *testing.T) {
	for p, reserved := range map[string]bool{
		"/init": true, "/bin/gotrace": true, "/etc/passwd": true, "/dev/x": true, "/run": true, "/sys/a/b": true,
		"/tmp/x": false, "/work/testdata/a.gt": false, "/devices": false, "/etc/other": false,
	} {
		if got := reservedGuestPath(p) != ""; got != reserved {
			t.Errorf("reservedGuestPath(%q) = %q, want reserved %v", p, reservedGuestPath(p), reserved)
		}
	}
}

func TestParseKernelDepends(t *testing.T) {
	show := `Package: linux-image-cloud-amd64
Source: linux-signed-amd64 (6.1.192+2)
Version: 6.1.192-2
Installed-Size: 14
Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)
Description-en: Linux for x86-64 cloud (meta-package)
`
	got, err := parseKernelDepends(show)
	if err != nil || got != (kernelPackage{"linux-image-6.1.0-56-cloud-amd64", "6.1.192-2"}) {
		t.Errorf("got %+v, %v", got, err)
	}
	if got.dir() != "linux-image-6.1.0-56-cloud-amd64_6.1.192-2" {
		t.Errorf("dir %q", got.dir())
	}
	// A Depends line naming no exact kernel version is an error.
	if got, err := parseKernelDepends("Package: x\nDepends: libc6 (>= 2.3)\n"); err == nil {
		t.Errorf("no kernel: got %+v, want an error", got)
	}
}

// TestResolveKernelMemo checks that the kernel package apt-cache named is
// remembered while the package lists stay the same, and only then.
func TestResolveKernelMemo(t *testing.T) {
	cache, lists := t.TempDir(), t.TempDir()
	list := filepath.Join(lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4")
	if err := os.WriteFile(list, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	stamp, err := listsStamp(lists)
	if err != nil {
		t.Fatal(err)
	}
	// A memo made for these lists (by an earlier run) is the answer.
	if err := os.WriteFile(filepath.Join(cache, "resolved"), []byte(stamp+" linux-image-test 1.2-3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := resolveKernelCached(cache, lists)
	if err != nil || got != (kernelPackage{"linux-image-test", "1.2-3"}) {
		t.Errorf("with a memo for the current lists: got %+v, %v", got, err)
	}
	// New lists (apt-get update): the stamp changes and the memo is stale.
	if err := os.WriteFile(list, []byte("v2, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if stamp2, err := listsStamp(lists); err != nil || stamp2 == stamp {
		t.Errorf("after the lists changed: stamp %q (was %q), %v", stamp2, stamp, err)
	}
	if _, err := listsStamp(t.TempDir()); err == nil {
		t.Error("no lists: no error")
	}
}

func TestNewestCached(t *testing.T) {
	cache := t.TempDir()
	if got := newestCached(cache); got != "" {
		t.Errorf("empty cache: got %q", got)
	}
	for _, d := range []string{
		"linux-image-6.1.0-9-cloud-amd64_6.1.27-1",
		"linux-image-6.1.0-56-cloud-amd64_6.1.192-2",
		"linux-image-6.1.0-56-cloud-amd64_6.1.192-10",
		"linux-image-6.1.0-50-cloud-amd64_6.1.176-1",
		"download-123", // an interrupted download is not a kernel
	} {
		if err := os.MkdirAll(filepath.Join(cache, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cache, d, "vmlinuz"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(cache, "linux-image-6.1.0-56-cloud-amd64_6.1.192-10", "vmlinuz")
	if got := newestCached(cache); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHasVirtFlag(t *testing.T) {
	for cpuinfo, want := range map[string]bool{
		"processor\t: 0\nflags\t\t: fpu vme sse2 vmx ept\n": true,
		"flags\t\t: fpu svm\nbugs\t\t: x\n":                 true,
		"flags\t\t: fpu sse2 hypervisor\n":                  false,
		"bugs\t\t: svm vmx\n":                               false,
	} {
		if got := hasVirtFlag(cpuinfo); got != want {
			t.Errorf("hasVirtFlag(%q) = %v, want %v", cpuinfo, got, want)
		}
	}
}

// TestRunPattern checks the -test.run pattern with go test's own rule:
// each slash-separated part must match the name's part at that level.
func TestRunPattern(t *testing.T) {
	for _, c := range []struct {
		name  string
		match []string // names the pattern must match, level by level
		not   []string
	}{
		{"TestA", []string{"TestA"}, []string{"TestAB", "XTestA"}},
		{"TestA/sub_1.x", []string{"TestA/sub_1.x"}, []string{"TestA/sub_1yx", "TestA/sub_1.x2"}},
	} {
		parts := strings.Split(runPattern(c.name), "/")
		matches := func(name string) bool {
			levels := strings.Split(name, "/")
			if len(levels) != len(parts) {
				return false
			}
			for i, p := range parts {
				if !regexp.MustCompile(p).MatchString(levels[i]) {
					return false
				}
			}
			return true
		}
		for _, n := range c.match {
			if !matches(n) {
				t.Errorf("runPattern(%q) = %q does not match %q", c.name, runPattern(c.name), n)
			}
		}
		for _, n := range c.not {
			if matches(n) {
				t.Errorf("runPattern(%q) = %q matches %q", c.name, runPattern(c.name), n)
			}
		}
	}
}

func TestTestOutcome(t *testing.T) {
	out := `=== RUN   TestX
=== RUN   TestX/a
--- FAIL: TestX (0.01s)
    --- PASS: TestX/a (0.00s)
    --- SKIP: TestX/b (0.00s)
--- PASS: TestXY (0.00s)
FAIL
`
	for name, want := range map[string]string{"TestX": "FAIL", "TestX/a": "PASS", "TestX/b": "SKIP", "TestXY": "PASS", "TestZ": ""} {
		if got := testOutcome(out, name); got != want {
			t.Errorf("testOutcome(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCleanConsole(t *testing.T) {
	raw := "\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2)\r\nBooting from ROM...\r\n\x1bc\x1b[?7l\x1b[2J[    1.38] mtrr: x\r\n"
	want := "SeaBIOS (version 1.16.2)\nBooting from ROM...\n[    1.38] mtrr: x\n"
	if got := cleanConsole(raw); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTail(t *testing.T) {
	if got := tail("a\nb\nc\n", 2); got != "[... 1 lines before]\nb\nc" {
		t.Errorf("got %q", got)
	}
	if got := tail("a\nb", 5); got != "a\nb" {
		t.Errorf("got %q", got)
	}
}

// toolsHelperEnv asks TestHelperFindTools to run: it exists only to be run
// by TestMissingToolsSkipOrFail in a child process with a bare PATH.
const toolsHelperEnv = "GOTRACE_VMTEST_TOOLS_HELPER"

func TestHelperFindTools(t *testing.T) {
	if os.Getenv(toolsHelperEnv) != "1" {
		t.Skip("run by TestMissingToolsSkipOrFail")
	}
	findTools(t)
	t.Log("found all the tools")
}

// TestMissingToolsSkipOrFail runs findTools where qemu, busybox and apt
// cannot be found: it must skip with what to install, and, under
// GOTRACE_REQUIRE_KERNEL=1, try to install them and fail instead.
func TestMissingToolsSkipOrFail(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to put in the bare PATH: %v", err)
	}
	bin := t.TempDir()
	if err := os.Symlink(goTool, filepath.Join(bin, "go")); err != nil {
		t.Fatal(err)
	}
	run := func(extraEnv ...string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFindTools$", "-test.v")
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "CI" && k != "GOTRACE_REQUIRE_KERNEL" {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, append([]string{"PATH=" + bin, toolsHelperEnv + "=1"}, extraEnv...)...)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := run()
	if !strings.Contains(out, "--- SKIP: TestHelperFindTools") ||
		!strings.Contains(out, "apt-get install qemu-system-x86 busybox-static") {
		t.Errorf("without permission to install: want a skip that says what to install, got:\n%s", out)
	}
	out = run("GOTRACE_REQUIRE_KERNEL=1")
	if !strings.Contains(out, "--- FAIL: TestHelperFindTools") ||
		!strings.Contains(out, "installing qemu-system-x86 busybox-static: no apt-get on this host") {
		t.Errorf("under GOTRACE_REQUIRE_KERNEL=1: want a failure to install, got:\n%s", out)
	}
}
