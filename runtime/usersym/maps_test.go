package usersym

import (
	"strings"
	"testing"
)

func TestParseMapsLine(t *testing.T) {
	cases := []struct {
		name, line string
		keep       bool
		want       mapping
		wantErr    bool
	}{
		{
			name: "executable file",
			line: "55d0c0a1c000-55d0c0a21000 r-xp 00002000 fe:01 1311                       /usr/bin/cat",
			keep: true,
			want: mapping{start: 0x55d0c0a1c000, end: 0x55d0c0a21000, offset: 0x2000, path: "/usr/bin/cat",
				key: objectKey{dev: 0xfe<<32 | 1, ino: 1311}},
		},
		{
			name: "path with spaces",
			line: "7f0000000000-7f0000001000 r-xp 00000000 08:02 77 /opt/my app/lib x.so",
			keep: true,
			want: mapping{start: 0x7f0000000000, end: 0x7f0000001000, path: "/opt/my app/lib x.so",
				key: objectKey{dev: 8<<32 | 2, ino: 77}},
		},
		{
			name: "deleted file",
			line: "400000-401000 r-xp 00000000 00:2a 99 /tmp/prog (deleted)",
			keep: true,
			want: mapping{start: 0x400000, end: 0x401000, path: "/tmp/prog", key: objectKey{dev: 0x2a, ino: 99}},
		},
		{
			name: "file without an inode is known by its path",
			line: "400000-401000 r-xp 00001000 00:00 0 /memfd:jit",
			keep: true,
			want: mapping{start: 0x400000, end: 0x401000, offset: 0x1000, path: "/memfd:jit", key: objectKey{path: "/memfd:jit"}},
		},
		{name: "data of a file", line: "55d0c0a25000-55d0c0a26000 rw-p 00008000 fe:01 1311 /usr/bin/cat"},
		{name: "anonymous", line: "7ffd5c1e3000-7ffd5c1e5000 r-xp 00000000 00:00 0"},
		{name: "vdso", line: "7ffd5c1e3000-7ffd5c1e5000 r-xp 00000000 00:00 0                          [vdso]"},
		{name: "too short", line: "7ffd5c1e3000-7ffd5c1e5000 r-xp", wantErr: true},
		{name: "bad address", line: "zz-7ffd5c1e5000 r-xp 00000000 fe:01 12 /bin/x", wantErr: true},
		{name: "bad device", line: "1000-2000 r-xp 00000000 fe01 12 /bin/x", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, keep, err := parseMapsLine([]byte(c.line))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error: %v", err, c.wantErr)
			}
			if keep != c.keep {
				t.Fatalf("keep = %v, want %v", keep, c.keep)
			}
			if keep && m != c.want {
				t.Errorf("got %+v\nwant %+v", m, c.want)
			}
		})
	}
}

// parseMaps keeps the executable file mappings, in address order, and
// rejects text that is not a maps file.
func TestParseMaps(t *testing.T) {
	text := strings.Join([]string{
		"7f0000002000-7f0000003000 r-xp 00002000 08:01 20 /lib/b.so",
		"55d0c0a1c000-55d0c0a21000 r--p 00000000 08:01 10 /bin/a",
		"55d0c0a21000-55d0c0a22000 r-xp 00005000 08:01 10 /bin/a",
		"7ffd5c1e3000-7ffd5c1e5000 r-xp 00000000 00:00 0 [vdso]",
		"",
	}, "\n")
	maps, err := parseMaps([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range maps {
		got = append(got, m.path)
	}
	if strings.Join(got, " ") != "/bin/a /lib/b.so" {
		t.Errorf("kept %v, want [/bin/a /lib/b.so]", got)
	}
	if _, err := parseMaps([]byte("hello\n")); err == nil {
		t.Error("a line that is not a mapping was accepted")
	}
}
