package userbin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// File is a binary a probe names, found.
type File struct {
	// Open is the path to read and to attach probes to: under
	// /proc/PID/root when a process was given, so that a process in
	// another mount namespace (a container) has its own files probed.
	Open string
	// Name is the file's name for probe names: a path as it was written
	// ("./app"), and the path found for a library or program named
	// without one ("/lib/x86_64-linux-gnu/libc.so.6" for "libc"), as
	// bpftrace names them.
	Name string
}

// Locate finds the file that a uprobe or USDT probe names. A name with a
// '/' is a path (relative ones from the current directory). Any other
// name is a library or a program: "libc", "libc.so.6", "ssl" (libssl) or
// "bash". With a process (pid not 0), the files that process has mapped
// come first, and paths are resolved in its root directory; then, as the
// dynamic loader does, /etc/ld.so.cache and the usual library directories;
// then the directories of $PATH.
func Locate(name string, pid int) (File, error) {
	root := ""
	if pid != 0 {
		root = "/proc/" + strconv.Itoa(pid) + "/root"
	}
	if strings.Contains(name, "/") {
		abs := name
		if !filepath.IsAbs(abs) {
			var err error
			if abs, err = filepath.Abs(name); err != nil {
				return File{}, err
			}
		}
		f := File{Open: root + abs, Name: name}
		if _, err := os.Stat(f.Open); err != nil {
			if pid != 0 {
				return File{}, fmt.Errorf("%s: no such file in the root of process %d (%s): %w", name, pid, f.Open, err)
			}
			return File{}, fmt.Errorf("%s: %w", name, errors.Unwrap(err))
		}
		return f, nil
	}
	if name == "" {
		return File{}, errors.New("no file named")
	}
	if pid != 0 {
		if p, ok := mappedFile(pid, name); ok {
			return File{Open: root + p, Name: p}, nil
		}
	}
	if p, ok := cachedLibrary(root, name); ok {
		return File{Open: root + p, Name: p}, nil
	}
	if p, ok := libraryInDirs(root, name); ok {
		return File{Open: root + p, Name: p}, nil
	}
	if root == "" {
		if p, err := exec.LookPath(name); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return File{Open: abs, Name: abs}, nil
			}
		}
	}
	return File{}, fmt.Errorf("%s: no library or program of that name (looked in /etc/ld.so.cache, the library directories and $PATH)", name)
}

// libraryMatch says how well a library file name (a soname such as
// "libc.so.6") answers a short name: 2 exactly ("libc.so.6"), 1 as
// lib<name>.so or <name>.so with or without a version ("libc", "c",
// "libssl.so"), 0 not at all.
func libraryMatch(short, file string) int {
	if file == short {
		return 2
	}
	if strings.HasSuffix(short, ".so") && strings.HasPrefix(file, short+".") {
		return 1 // libssl.so: libssl.so.3
	}
	for _, stem := range []string{"lib" + short + ".so", short + ".so"} {
		if strings.HasPrefix(stem, "liblib") {
			continue
		}
		if file == stem || strings.HasPrefix(file, stem+".") {
			return 1
		}
	}
	return 0
}

// mappedFile finds a file that process pid has mapped whose name answers
// name: a library (libraryMatch) or the program itself.
func mappedFile(pid int, name string) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return "", false
	}
	best, bestRank := "", 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 6 || len(f[5]) == 0 || f[5][0] != '/' {
			continue
		}
		p := string(bytes.Join(f[5:], []byte(" ")))
		if r := libraryMatch(name, filepath.Base(p)); r > bestRank {
			best, bestRank = p, r
		}
	}
	if bestRank > 0 {
		return best, true
	}
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err == nil && filepath.Base(exe) == name {
		return strings.TrimSuffix(exe, " (deleted)"), true
	}
	return "", false
}

// LdCachePath is the dynamic loader's cache of libraries.
const LdCachePath = "/etc/ld.so.cache"

// CacheEntry is one library of the loader's cache.
type CacheEntry struct {
	// Name is the library's soname ("libc.so.6"), Path its file.
	Name, Path string
	// Flags say what kind of library it is: the low byte its type (3 for
	// ELF libc6 libraries), the next its architecture (see cacheArch).
	Flags int32
}

// cachedLibrary looks name up in root's loader cache, among the libraries
// of the architecture gotrace runs on; the first best match wins, the
// cache being in the loader's order of preference.
func cachedLibrary(root, name string) (string, bool) {
	data, err := os.ReadFile(root + LdCachePath)
	if err != nil {
		return "", false
	}
	entries, err := ParseLdCache(data)
	if err != nil {
		return "", false
	}
	arch, archKnown := cacheArch(runtime.GOARCH)
	best, bestRank := "", 0
	for _, e := range entries {
		if archKnown && e.Flags&0xff00 != arch {
			continue
		}
		if r := libraryMatch(name, e.Name); r > bestRank {
			best, bestRank = e.Path, r
		}
	}
	return best, bestRank > 0
}

// cacheArch is the architecture flag of the loader cache's entries for a
// GOARCH (glibc's FLAG_X8664_LIB64, FLAG_AARCH64_LIB64).
func cacheArch(goarch string) (int32, bool) {
	switch goarch {
	case "amd64":
		return 0x0300, true
	case "arm64":
		return 0x0a00, true
	}
	return 0, false
}

// The loader cache's formats: glibc 2.32 and later write only the new
// one; older versions wrote the old one followed by the new one.
const (
	oldCacheMagic = "ld.so-1.7.0"
	newCacheMagic = "glibc-ld.so.cache1.1"
)

// ParseLdCache decodes /etc/ld.so.cache. The new format is a header (the
// magic, the number of entries, the size of the string table, flags, the
// offset of extensions, padding: 48 bytes) and entries of 24 bytes (flags,
// the offsets of the soname and of the path, an OS version, hardware
// capabilities), the offsets counting from the header's start.
func ParseLdCache(data []byte) ([]CacheEntry, error) {
	start := 0
	if bytes.HasPrefix(data, []byte(oldCacheMagic)) {
		// The old header (magic padded to 12 bytes, a count) and its
		// entries (12 bytes each), then the new format, 8-byte aligned.
		if len(data) < 16 {
			return nil, errors.New("short loader cache")
		}
		n := int(binary.LittleEndian.Uint32(data[12:]))
		start = (16 + 12*n + 7) &^ 7
		if start > len(data) {
			return nil, errors.New("short loader cache")
		}
	}
	d := data[start:]
	if !bytes.HasPrefix(d, []byte(newCacheMagic)) {
		return nil, errors.New("not a glibc loader cache in a format gotrace knows")
	}
	if len(d) < 48 {
		return nil, errors.New("short loader cache")
	}
	order := binary.ByteOrder(binary.LittleEndian)
	n := int(order.Uint32(d[20:]))
	if 48+24*n > len(d) {
		return nil, errors.New("the loader cache has fewer entries than it says")
	}
	str := func(off uint32) string {
		if int(off) >= len(d) {
			return ""
		}
		s := d[off:]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return string(s)
	}
	entries := make([]CacheEntry, 0, n)
	for i := range n {
		e := d[48+24*i:]
		entries = append(entries, CacheEntry{
			Flags: int32(order.Uint32(e)),
			Name:  str(order.Uint32(e[4:])),
			Path:  str(order.Uint32(e[8:])),
		})
	}
	return entries, nil
}

// libraryDirs are where the loader looks for libraries that its cache
// does not list, for the architecture gotrace runs on.
func libraryDirs() []string {
	triplet := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[runtime.GOARCH]
	var dirs []string
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib")
}

// libraryInDirs finds a library answering name in the library directories
// of root.
func libraryInDirs(root, name string) (string, bool) {
	for _, dir := range libraryDirs() {
		entries, err := os.ReadDir(root + dir)
		if err != nil {
			continue
		}
		best, bestRank := "", 0
		for _, e := range entries {
			if e.IsDir() || libraryMatch(name, e.Name()) == 0 || !isELF(root+dir+"/"+e.Name()) {
				continue
			}
			if r := libraryMatch(name, e.Name()); r > bestRank || (r == bestRank && r > 0 && len(e.Name()) < len(filepath.Base(best))) {
				best, bestRank = dir+"/"+e.Name(), r
			}
		}
		if bestRank > 0 {
			return best, true
		}
	}
	return "", false
}

// isELF reports whether the file at path starts as ELF files do (a
// library's name may be a linker script: libc.so).
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = f.ReadAt(magic[:], 0)
	return err == nil && string(magic[:]) == "\x7fELF"
}
