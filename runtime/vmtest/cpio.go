package vmtest

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// cpioWriter writes the "newc" cpio format, the one the kernel unpacks as
// an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst):
// per entry a 110-byte ASCII header of "070701" and thirteen 8-digit hex
// fields, the NUL-terminated name, padding to 4 bytes, the data, padding to
// 4 bytes; a "TRAILER!!!" entry ends the archive.
type cpioWriter struct {
	w   io.Writer
	ino uint32 // the last inode number given out
	err error  // the first write error; later writes do nothing
}

// Unix mode bits of the entry types the initramfs needs.
const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeCharDev = 0o020000
)

// cpioEntry is one header's worth of fields.
type cpioEntry struct {
	name         string
	mode         uint32 // type and permission bits
	nlink        uint32
	size         uint32
	rdevMajor    uint32
	rdevMinor    uint32
	data         io.Reader // size bytes, for files and symlinks
	skipNewInode bool      // the trailer has inode 0
}

// Dir adds a directory. Parents must be added before their children: the
// kernel's unpacker does not create missing directories.
func (c *cpioWriter) Dir(name string, perm fs.FileMode) {
	c.entry(cpioEntry{name: name, mode: modeDir | uint32(perm.Perm()), nlink: 2})
}

// File adds a regular file of size bytes read from r.
func (c *cpioWriter) File(name string, perm fs.FileMode, size int64, r io.Reader) {
	if size > 1<<32-1 {
		c.fail(fmt.Errorf("cpio: %s is %d bytes, more than newc's 4 GiB limit", name, size))
		return
	}
	c.entry(cpioEntry{name: name, mode: modeFile | uint32(perm.Perm()), nlink: 1, size: uint32(size), data: r})
}

// Symlink adds a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) {
	c.entry(cpioEntry{name: name, mode: modeSymlink | 0o777, nlink: 1, size: uint32(len(target)), data: strings.NewReader(target)})
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm fs.FileMode, major, minor uint32) {
	c.entry(cpioEntry{name: name, mode: modeCharDev | uint32(perm.Perm()), nlink: 1, rdevMajor: major, rdevMinor: minor})
}

// Close writes the trailer and reports the first error of any write.
// It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	c.entry(cpioEntry{name: "TRAILER!!!", nlink: 1, skipNewInode: true})
	return c.err
}

func (c *cpioWriter) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *cpioWriter) entry(e cpioEntry) {
	if c.err != nil {
		return
	}
	// Names are relative to the root, without a leading slash, as
	// gen_init_cpio and GNU cpio write them.
	name := strings.TrimPrefix(e.name, "/")
	var ino uint32
	if !e.skipNewInode {
		// Distinct inode numbers: the unpacker treats entries that share
		// one (with nlink > 1) as hard links of each other.
		c.ino++
		ino = c.ino
	}
	// Fields: ino mode uid gid nlink mtime filesize devmajor devminor
	// rdevmajor rdevminor namesize check. Owner root, time 0: the archive
	// depends only on its contents.
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, e.mode, 0, 0, e.nlink, 0, e.size, 0, 0, e.rdevMajor, e.rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad(len(hdr) + len(name) + 1)
	if e.size > 0 {
		n, err := io.CopyN(c.w, e.data, int64(e.size))
		if err != nil {
			c.fail(fmt.Errorf("cpio: %s: wrote %d of %d bytes: %w", name, n, e.size, err))
			return
		}
		c.pad(int(e.size))
	}
}

// pad writes the zero bytes that bring n up to a multiple of 4.
func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

func (c *cpioWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	if _, err := c.w.Write(p); err != nil {
		c.fail(fmt.Errorf("cpio: %w", err))
	}
}
