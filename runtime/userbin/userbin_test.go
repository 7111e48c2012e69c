package userbin

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// ldCache builds a loader cache in the new format with the given entries,
// after an old-format part of oldEntries entries when that is not 0.
func ldCache(oldEntries int, entries []CacheEntry) []byte {
	le := binary.LittleEndian
	var b []byte
	if oldEntries > 0 {
		b = append(b, oldCacheMagic...)
		b = append(b, 0)
		b = le.AppendUint32(b, uint32(oldEntries))
		b = append(b, make([]byte, 12*oldEntries)...)
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
	}
	start := len(b)
	var strs []byte
	strBase := 48 + 24*len(entries)
	off := func(s string) uint32 {
		o := strBase + len(strs)
		strs = append(append(strs, s...), 0)
		return uint32(o)
	}
	b = append(b, newCacheMagic...)
	b = le.AppendUint32(b, uint32(len(entries)))
	b = le.AppendUint32(b, 0) // string table size: unused
	b = append(b, make([]byte, 48-(len(b)-start))...)
	for _, e := range entries {
		b = le.AppendUint32(b, uint32(e.Flags))
		b = le.AppendUint32(b, off(e.Name))
		b = le.AppendUint32(b, off(e.Path))
		b = le.AppendUint32(b, 0)
		b = le.AppendUint64(b, 0)
	}
	return append(b, strs...)
}

func TestParseLdCache(t *testing.T) {
	entries := []CacheEntry{
		{Name: "libz.so.1", Path: "/lib/x86_64-linux-gnu/libz.so.1", Flags: 0x0303},
		{Name: "libc.so.6", Path: "/lib/i386-linux-gnu/libc.so.6", Flags: 0x0003},
		{Name: "libc.so.6", Path: "/lib/x86_64-linux-gnu/libc.so.6", Flags: 0x0303},
	}
	for _, old := range []int{0, 3} {
		got, err := ParseLdCache(ldCache(old, entries))
		if err != nil {
			t.Fatalf("old entries %d: %v", old, err)
		}
		if !reflect.DeepEqual(got, entries) {
			t.Errorf("old entries %d: got %+v, want %+v", old, got, entries)
		}
	}
	for _, bad := range [][]byte{nil, []byte("glibc-ld.so.cache1.1"), []byte("something else entirely, long enough to be read as a header")} {
		if _, err := ParseLdCache(bad); err == nil {
			t.Errorf("ParseLdCache(%q) succeeded", bad)
		}
	}
	// The machine's own cache, when there is one, lists libc.
	data, err := os.ReadFile(LdCachePath)
	if err != nil {
		t.Skipf("no loader cache: %v", err)
	}
	got, err := ParseLdCache(data)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range got {
		found = found || (e.Name == "libc.so.6" && strings.HasPrefix(e.Path, "/"))
	}
	if !found {
		t.Errorf("%s does not list libc.so.6: %+v", LdCachePath, got)
	}
}

func TestLibraryMatch(t *testing.T) {
	cases := []struct {
		short, file string
		want        int
	}{
		{"libc", "libc.so.6", 1},
		{"c", "libc.so.6", 1},
		{"libc.so.6", "libc.so.6", 2},
		{"libc", "libcap.so.2", 0},
		{"ssl", "libssl.so.3", 1},
		{"libssl.so", "libssl.so.3", 1},
		{"libssl.so.3", "libssl.so.3", 2},
		{"m", "libmount.so.1", 0},
		{"pthread", "libpthread.so.0", 1},
		{"bash", "libbash.so", 1},
		{"libc", "liblibc.so", 0},
	}
	for _, c := range cases {
		if got := libraryMatch(c.short, c.file); got != c.want {
			t.Errorf("libraryMatch(%q, %q) = %d, want %d", c.short, c.file, got, c.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		text    string
		machine elf.Machine
		want    []Arg
	}{
		{"-4@%edi 8@%rsi", elf.EM_X86_64, []Arg{
			{Size: 4, Signed: true, Kind: ArgReg, Base: "di", Text: "-4@%edi"},
			{Size: 8, Kind: ArgReg, Base: "si", Text: "8@%rsi"},
		}},
		{"-4@-20(%rbp) 8@(%rax) 2@8(%r12d)", elf.EM_X86_64, []Arg{
			{Size: 4, Signed: true, Kind: ArgMem, Base: "bp", Disp: -20, Text: "-4@-20(%rbp)"},
			{Size: 8, Kind: ArgMem, Base: "ax", Text: "8@(%rax)"},
			{Size: 2, Kind: ArgMem, Base: "r12", Disp: 8, Text: "2@8(%r12d)"},
		}},
		{"4@$5 -8@$-1 1@$0x10", elf.EM_X86_64, []Arg{
			{Size: 4, Kind: ArgConst, Disp: 5, Text: "4@$5"},
			{Size: 8, Signed: true, Kind: ArgConst, Disp: -1, Text: "-8@$-1"},
			{Size: 1, Kind: ArgConst, Disp: 16, Text: "1@$0x10"},
		}},
		{"8@(%rax,%rdx,8) 4@16(%rsp,%rcx)", elf.EM_X86_64, []Arg{
			{Size: 8, Kind: ArgMem, Base: "ax", Index: "dx", Scale: 8, Text: "8@(%rax,%rdx,8)"},
			{Size: 4, Kind: ArgMem, Base: "sp", Index: "cx", Scale: 1, Disp: 16, Text: "4@16(%rsp,%rcx)"},
		}},
		{"-4@counter(%rip) 8@table+8(%rip)", elf.EM_X86_64, []Arg{
			{Size: 4, Signed: true, Kind: ArgMemPC, Sym: "counter", Text: "-4@counter(%rip)"},
			{Size: 8, Kind: ArgMemPC, Sym: "table", Disp: 8, Text: "8@table+8(%rip)"},
		}},
		{"%rdi", elf.EM_X86_64, []Arg{{Size: 8, Kind: ArgReg, Base: "di", Text: "%rdi"}}},
		{"-4@x0 8@[sp, 16] 4@[x1] 8@#3 -4@5 4@w19", elf.EM_AARCH64, []Arg{
			{Size: 4, Signed: true, Kind: ArgReg, Base: "x0", Text: "-4@x0"},
			{Size: 8, Kind: ArgMem, Base: "sp", Disp: 16, Text: "8@[sp, 16]"},
			{Size: 4, Kind: ArgMem, Base: "x1", Text: "4@[x1]"},
			{Size: 8, Kind: ArgConst, Disp: 3, Text: "8@#3"},
			{Size: 4, Signed: true, Kind: ArgConst, Disp: 5, Text: "-4@5"},
			{Size: 4, Kind: ArgReg, Base: "x19", Text: "4@w19"},
		}},
		{"", elf.EM_X86_64, nil},
	}
	for _, c := range cases {
		got, err := ParseArgs(c.text, c.machine)
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", c.text, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseArgs(%q) =\n%+v\nwant\n%+v", c.text, got, c.want)
		}
	}
	for _, bad := range []string{"3@%rdi", "4@%xmm0", "4@foo", "x@%rax", "4@8(%rip)", "4@sym(%rbp)"} {
		if _, err := ParseArgs(bad, elf.EM_X86_64); err == nil {
			t.Errorf("ParseArgs(%q) succeeded", bad)
		}
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	f, err := Locate("./prog", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (File{Open: prog, Name: "./prog"}); f != want {
		t.Errorf("Locate(./prog) = %+v, want %+v", f, want)
	}
	pid := os.Getpid()
	f, err = Locate(prog, pid)
	if err != nil {
		t.Fatal(err)
	}
	if want := (File{Open: "/proc/" + strconv.Itoa(pid) + "/root" + prog, Name: prog}); f != want {
		t.Errorf("Locate(%s, %d) = %+v, want %+v", prog, pid, f, want)
	}
	if _, err := Locate("/no/such/file", 0); err == nil {
		t.Error("Locate found /no/such/file")
	}
	if _, err := Locate("no-such-library-or-program", 0); err == nil {
		t.Error("Locate found no-such-library-or-program")
	}
	// This test's binary is a Go program: static, it maps no library.
	// The loader's libc is found where the cache says.
	lib, err := Locate("libc", 0)
	if err != nil {
		t.Skipf("no libc on this machine: %v", err)
	}
	if !strings.HasPrefix(filepath.Base(lib.Name), "libc.so") || lib.Open != lib.Name {
		t.Errorf("Locate(libc) = %+v", lib)
	}
	sh, err := Locate("sh", 0)
	if err != nil || !filepath.IsAbs(sh.Name) {
		t.Errorf("Locate(sh) = %+v, %v; want the sh of $PATH", sh, err)
	}
}

func TestOpen(t *testing.T) {
	// This test's binary is built by Go (go test strips its symbols, but
	// it has the build information section).
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Go {
		t.Error("this test binary, built by Go, is not recognized as a Go program")
	}
	prog := kerneltest.CompileC(t, t.TempDir(), "prog", `
int shared_counter = 1;
static int __attribute__((noinline)) helper(int x) { return x + shared_counter; }
int main(int argc, char **argv) { return helper(argc); }
`, "-fPIE", "-pie")
	b, err = Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	if b.Go || !b.PIE() {
		t.Errorf("%s: Go %v, PIE %v; want a PIE C program", prog, b.Go, b.PIE())
	}
	fn, ok := b.Function("helper")
	if !ok || fn.Size == 0 || fn.Bind != elf.STB_LOCAL {
		t.Fatalf("helper: %+v, %v", fn, ok)
	}
	if _, ok := b.Function("shared_counter"); ok {
		t.Error("shared_counter, data, is listed as a function")
	}
	if s, ok := b.Symbol("shared_counter"); !ok || s.Size != 4 || s.Func {
		t.Errorf("shared_counter: %+v, %v", s, ok)
	}
	at, off, ok := b.FunctionAt(fn.Value + 3)
	if !ok || at.Name != "helper" || off != 3 {
		t.Errorf("FunctionAt(helper+3) = %s+%d, %v", at.Name, off, ok)
	}
	fileOff, err := b.FileOffset(fn.Value)
	if err != nil {
		t.Fatal(err)
	}
	code, err := b.Code(fn.Value, 8)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw[fileOff:fileOff+8], code) {
		t.Errorf("the code at helper's file offset 0x%x is not Code's", fileOff)
	}
	if _, err := Open("/proc/self/status"); err == nil {
		t.Error("Open read a text file as ELF")
	}
}
