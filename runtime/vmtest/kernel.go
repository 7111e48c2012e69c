package vmtest

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// KernelEnv names an environment variable that, when set, is the path of
// the kernel image (a bzImage) to boot instead of Debian's, for hosts
// without apt or to try another kernel.
const KernelEnv = "GOTRACE_VM_KERNEL"

// kernelMetaPackage is the Debian metapackage that depends on the current
// cloud kernel: a small kernel (no hardware drivers) that has kprobes,
// kretprobes, fentry/fexit and BTF built in.
const kernelMetaPackage = "linux-image-cloud-amd64"

// kernelPackage is a Debian kernel image package at one version.
type kernelPackage struct{ name, version string }

// dir is the package's directory in the cache: a new version gets a new
// directory, so a cached kernel is never stale.
func (p kernelPackage) dir() string { return p.name + "_" + p.version }

// cacheDir is where kernels are kept between runs.
func cacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "gotrace", "vm")
	}
	// No $HOME (some CI sandboxes): a per-machine directory still saves
	// the download for the rest of the run.
	return filepath.Join(os.TempDir(), "gotrace-vm-cache")
}

// findKernel returns the path of the kernel image to boot: GOTRACE_VM_KERNEL,
// or Debian's current cloud kernel from the cache, downloaded into it the
// first time. The test skips (or fails under GOTRACE_REQUIRE_KERNEL=1) when
// no kernel can be had.
func findKernel(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(KernelEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", KernelEnv, err)
		}
		return p
	}
	cache := cacheDir()
	pkg, err := resolveKernelCached(cache, aptLists)
	if err != nil && installAllowed() && os.Geteuid() == 0 {
		// A fresh machine may have no package lists yet.
		if uerr := runLogged("apt-get", "update", "-q"); uerr != nil {
			err = fmt.Errorf("%v; apt-get update: %v", err, uerr)
		} else {
			pkg, err = resolveKernelCached(cache, aptLists)
		}
	}
	if err == nil {
		path := filepath.Join(cache, pkg.dir(), "vmlinuz")
		if _, serr := os.Stat(path); serr == nil {
			return path
		}
		t.Logf("VM tests: downloading %s %s into %s", pkg.name, pkg.version, cache)
		if err = downloadKernel(pkg, cache); err == nil {
			return path
		}
	}
	// Without the package lists or the network, any kernel downloaded
	// before will do.
	if old := newestCached(cache); old != "" {
		t.Logf("VM tests: using the cached %s (%v)", old, err)
		return old
	}
	kerneltest.SkipOrFail(t, "VM tests: no kernel to boot: %v (set %s to a bzImage to use another)", err, KernelEnv)
	return ""
}

// aptLists is where apt keeps the package lists that apt-cache reads.
const aptLists = "/var/lib/apt/lists"

// resolveKernelCached is resolveKernel, remembered in the cache for as
// long as apt's package lists (in the directory lists) stay the same: apt-cache takes a second or
// more (several on a busy machine) for an answer that changes only with
// an apt-get update.
func resolveKernelCached(cache, lists string) (kernelPackage, error) {
	stamp, err := listsStamp(lists)
	if err != nil {
		return resolveKernel()
	}
	memo := filepath.Join(cache, "resolved")
	if b, err := os.ReadFile(memo); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 && f[0] == stamp {
			return kernelPackage{name: f[1], version: f[2]}, nil
		}
	}
	pkg, err := resolveKernel()
	if err != nil {
		return pkg, err
	}
	// Best effort: without the memo the next run asks apt-cache again.
	if os.MkdirAll(cache, 0o755) == nil {
		if f, err := os.CreateTemp(cache, "resolved-"); err == nil {
			_, werr := fmt.Fprintf(f, "%s %s %s\n", stamp, pkg.name, pkg.version)
			if cerr := f.Close(); werr == nil && cerr == nil {
				os.Rename(f.Name(), memo)
			}
			os.Remove(f.Name())
		}
	}
	return pkg, nil
}

// listsStamp sums up the names, sizes and modification times of apt's
// package lists: it changes whenever apt-get update changes them.
func listsStamp(lists string) (string, error) {
	entries, err := os.ReadDir(lists)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.Contains(e.Name(), "Packages") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d %d\n", e.Name(), info.Size(), info.ModTime().UnixNano())
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("no package lists in %s", lists)
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// resolveKernel asks apt which kernel package the metapackage's candidate
// version depends on.
func resolveKernel() (kernelPackage, error) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		return kernelPackage{}, fmt.Errorf("no apt-cache to find Debian's kernel: %v", err)
	}
	out, err := exec.Command("apt-cache", "show", "--no-all-versions", kernelMetaPackage).CombinedOutput()
	if err != nil {
		return kernelPackage{}, fmt.Errorf("apt-cache show %s: %v: %s", kernelMetaPackage, err, strings.TrimSpace(string(out)))
	}
	return parseKernelDepends(string(out))
}

// dependsRE matches a "Depends:" line's kernel image and exact version,
// as in "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)".
var dependsRE = regexp.MustCompile(`(?m)^Depends:.*?\b(linux-image-[^\s,(]+)\s*\(=\s*([^)\s]+)\)`)

// parseKernelDepends finds the kernel package in apt-cache show's output.
func parseKernelDepends(show string) (kernelPackage, error) {
	m := dependsRE.FindStringSubmatch(show)
	if m == nil {
		return kernelPackage{}, fmt.Errorf("apt-cache show %s names no kernel image package:\n%s", kernelMetaPackage, show)
	}
	return kernelPackage{name: m[1], version: m[2]}, nil
}

// downloadKernel fetches the package with apt-get download and puts its
// /boot/vmlinuz-* into cache/DIR/vmlinuz. Concurrent downloads (go test
// runs packages in parallel) are harmless: each works in its own
// directory and the last rename wins with identical contents.
func downloadKernel(pkg kernelPackage, cache string) error {
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(cache, "download-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	get := exec.Command("apt-get", "download", "-q", pkg.name+"="+pkg.version)
	get.Dir = tmp
	if out, err := get.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get download %s=%s: %v\n%s", pkg.name, pkg.version, err, tail(string(out), 20))
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s=%s left %d .deb files", pkg.name, pkg.version, len(debs))
	}
	image := filepath.Join(tmp, "vmlinuz")
	if err := extractVmlinuz(debs[0], image); err != nil {
		return err
	}
	dir := filepath.Join(cache, pkg.dir())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.Rename(image, filepath.Join(dir, "vmlinuz"))
}

// extractVmlinuz copies the package's ./boot/vmlinuz-* to dst, reading
// the package's file system as a tar stream from dpkg-deb so that its
// modules are never written to disk.
func extractVmlinuz(deb, dst string) error {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dpkg-deb: %v", err)
	}
	found, copyErr := copyVmlinuz(out, dst)
	// Drain what is left so that dpkg-deb exits instead of blocking.
	io.Copy(io.Discard, out)
	waitErr := cmd.Wait()
	switch {
	case copyErr != nil:
		return fmt.Errorf("reading %s: %w", filepath.Base(deb), copyErr)
	case waitErr != nil:
		return fmt.Errorf("dpkg-deb --fsys-tarfile %s: %v: %s", filepath.Base(deb), waitErr, stderr.String())
	case !found:
		return fmt.Errorf("%s has no ./boot/vmlinuz-*", filepath.Base(deb))
	}
	return nil
}

// copyVmlinuz writes the first ./boot/vmlinuz-* of a tar stream to dst.
func copyVmlinuz(r io.Reader, dst string) (bool, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(strings.TrimPrefix(h.Name, "./"), "boot/vmlinuz-") {
			continue
		}
		f, err := os.Create(dst)
		if err != nil {
			return false, err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return true, err
	}
}

// newestCached returns the cached kernel of the highest package version,
// or "" if there is none.
func newestCached(cache string) string {
	paths, _ := filepath.Glob(filepath.Join(cache, "linux-image-*", "vmlinuz"))
	if len(paths) == 0 {
		return ""
	}
	// Names are linux-image-ABI-cloud-amd64_VERSION: comparing the
	// numbers in them in order ranks the versions.
	slices.SortFunc(paths, func(a, b string) int { return compareNumbers(filepath.Dir(a), filepath.Dir(b)) })
	return paths[len(paths)-1]
}

// numbersRE finds the runs of digits in a name.
var numbersRE = regexp.MustCompile(`\d+`)

// compareNumbers compares two names by the numbers in them, in order (so
// 6.1.0-56 sorts after 6.1.0-9), and by the text where those are equal.
func compareNumbers(a, b string) int {
	na, nb := numbersRE.FindAllString(a, -1), numbersRE.FindAllString(b, -1)
	for i := 0; i < len(na) && i < len(nb); i++ {
		x, y := strings.TrimLeft(na[i], "0"), strings.TrimLeft(nb[i], "0")
		if c := len(x) - len(y); c != 0 {
			return c
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	if c := len(na) - len(nb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}
