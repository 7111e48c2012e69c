package kerneltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CompileC compiles a C program (or, with "-shared", a library) with gcc:
// source is written to dir/out.c and built as dir/out with the extra
// flags, and the path of the result is returned. Tests that trace or
// symbolize user-space code build their own targets this way, so that
// every address and name is known. Without gcc the test skips, or fails
// under GOTRACE_REQUIRE_KERNEL=1 (CI installs gcc).
func CompileC(t testing.TB, dir, out, source string, flags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		SkipOrFail(t, "gcc is needed to build a test program: %v", err)
	}
	src := filepath.Join(dir, out+".c")
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, out)
	args := append([]string{"-O0", "-g0", "-o", bin, src}, flags...)
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, b)
	}
	return bin
}

// CompileCXX compiles a C++ program with g++, as CompileC compiles C:
// source is written to dir/out.cc and built as dir/out.
func CompileCXX(t testing.TB, dir, out, source string, flags ...string) string {
	t.Helper()
	gxx, err := exec.LookPath("g++")
	if err != nil {
		SkipOrFail(t, "g++ is needed to build a test program: %v", err)
	}
	src := filepath.Join(dir, out+".cc")
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, out)
	args := append([]string{"-O0", "-g0", "-o", bin, src}, flags...)
	if b, err := exec.Command(gxx, args...).CombinedOutput(); err != nil {
		t.Fatalf("g++ %v: %v\n%s", args, err, b)
	}
	return bin
}
